#!/usr/bin/env python3
"""Measures "Download your data" for an account with a long history: the time and peak memory of
`authkit admin export` (the same `accounts::export::write_zip` the download link streams), against the
peak memory of a command that starts the same way and names a device the same way but exports nothing
(`sessions`: the user-agent parser's tables are most of a process's memory, the server's too).

usage: export.py [BINARY] [EVENTS]   (defaults: target/release/authkit, 10000)
"""
import json, os, resource, shutil, sqlite3, subprocess, sys, tempfile, time, zipfile

UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
KINDS = ["signed_in", "sign_in_failed", "signed_out", "password_changed", "passkey_added"]


def run(binary: str, data: str, *args: str) -> tuple[int, float, int, str]:
    """Runs `binary admin ARGS`; its exit code, wall time (s), peak resident memory (KiB) and stdout."""
    env = {"PATH": os.environ.get("PATH", ""), "APP_DATA_DIR": data}
    start = time.perf_counter()
    proc = subprocess.Popen([binary, "admin", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), time.perf_counter() - start, usage.ru_maxrss, out


def create_database(binary: str, data: str) -> None:
    """Starts the server on the data folder until it listens (it has then made the database and its
    schema; the operator's commands never make one), and stops it."""
    env = {"PATH": os.environ.get("PATH", ""), "APP_DATA_DIR": data, "LEPTOS_SITE_ADDR": "127.0.0.1:0", "RUST_LOG": "info"}
    server = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for line in server.stdout:
        if b"listening on" in line:
            break
    else:
        raise SystemExit("the server stopped before it listened")
    server.terminate()
    server.wait()


def main() -> None:
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/authkit"
    events = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    data = tempfile.mkdtemp(prefix="authkit-export-bench-")
    try:
        create_database(binary, data)
        now = int(time.time())
        con = sqlite3.connect(os.path.join(data, "app.db"), timeout=30)
        con.execute(
            "INSERT INTO users (id, email, name, password_hash, email_verified_at, created_at, updated_at) "
            "VALUES ('0123456789abcdef0123456789abcdef', 'ada@example.com', 'Ada', 'x', ?, ?, ?)",
            (now, now, now),
        )
        con.execute(
            "INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, expires_at, ip, user_agent) "
            "VALUES ('s1', '0123456789abcdef0123456789abcdef', 'h1', ?, ?, ?, '203.0.113.9', ?)",
            (now, now, now + 86400, UA),
        )
        con.executemany(
            "INSERT INTO security_events (id, user_id, kind, detail, ip, user_agent, created_at) "
            "VALUES (?, '0123456789abcdef0123456789abcdef', ?, 'password', '203.0.113.9', ?, ?)",
            ((f"{i:016x}{i:016x}", KINDS[i % len(KINDS)], UA, now - events + i) for i in range(events)),
        )
        con.commit()
        con.close()

        code, _, baseline_kib, out = run(binary, data, "sessions", "ada@example.com")
        assert code == 0 and "Firefox on Windows" in out, f"sessions failed: {out}"
        zip_path = os.path.join(data, "ada.zip")
        code, seconds, peak_kib, out = run(binary, data, "export", "ada@example.com", zip_path)
        assert code == 0, f"export failed: {out}"
        with zipfile.ZipFile(zip_path) as z:
            account = json.loads(z.read("account.json"))
            raw = z.getinfo("account.json").file_size
        exported = len(account["security_activity"])
        # The operator's export is recorded once its file is written, so the file holds the seeded events alone.
        assert exported == events, f"{exported} events exported of {events}"
        print(f"events exported          {exported:,}")
        print(f"account.json             {raw:,} bytes ({os.path.getsize(zip_path):,} bytes zipped)")
        print(f"time (whole command)     {seconds * 1000:,.0f} ms")
        print(f"peak memory, export      {peak_kib / 1024:.1f} MiB")
        print(f"peak memory, sessions    {baseline_kib / 1024:.1f} MiB (the same start-up, no export)")
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
