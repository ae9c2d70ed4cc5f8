#!/usr/bin/env python3
"""Turns benchmark output into BENCHMARKS.md.

  report.py sizes URL SITE_ROOT   what a first visit to URL downloads (raw, gzip, brotli), as markdown
  report.py plans DB              EXPLAIN QUERY PLAN of the per-request queries, as markdown
  report.py exports WORKDIR       the "Download your data" section from bench/export.py's outputs
  report.py report WORKDIR        the whole report from wrk outputs and the two parts above
"""
import gzip, os, platform, re, sqlite3, subprocess, sys, time, urllib.request

# The "150 KB", read as 150 × 1,024 bytes. The report also prints the figure against 150,000 bytes,
# so that either reading can be checked.
BUDGET_FIRST_VISIT_BROTLI = 150 * 1024


def wrk(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))

    def latency(pct):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return {"rps": rps, "p50": latency(50), "p99": latency(99), "errors": errors}


def sizes(url, site_root):
    # The files a browser fetched for a first visit (bench/first_visit.mjs): with the WASM split per page,
    # the HTML alone does not say which pieces a page pulls in.
    fetched = subprocess.run(["node", "bench/first_visit.mjs", url], capture_output=True, text=True, check=True)
    assets = fetched.stdout.split()
    import brotli

    # The page's lazily loaded WASM pieces (`chunk_*`, `split_*`) are summed in one row.
    groups = {}
    for asset in assets:
        name = os.path.basename(asset)
        group = f"{sum(1 for a in assets if os.path.basename(a).startswith(('chunk_', 'split_')))} WASM pieces of the page (split)" if name.startswith(("chunk_", "split_")) else f"`{asset}`"
        data = open(os.path.join(site_root, asset.lstrip("/")), "rb").read()
        sent = urllib.request.urlopen(urllib.request.Request(url.rsplit("/", 1)[0] + asset, headers={"Accept-Encoding": "br, gzip"}))
        sent_bytes = len(sent.read())
        sizes = (len(data), len(gzip.compress(data, 9)), len(brotli.compress(data, quality=11)), sent_bytes)
        groups[group] = [a + b for a, b in zip(groups.get(group, (0, 0, 0, 0)), sizes)]
    rows = [f"| {g} | {raw:,} | {gz:,} | {br:,} | {sent:,} |" for g, (raw, gz, br, sent) in groups.items()]
    totals = [sum(v[i] for v in groups.values()) for i in range(3)]
    verdict = "meets" if totals[2] <= BUDGET_FIRST_VISIT_BROTLI else "misses"
    return "\n".join(
        [
            "| File | Raw | gzip -9 | brotli q11 | Sent by the server (brotli) |",
            "|---|---:|---:|---:|---:|",
            *rows,
            f"| **Total** | **{totals[0]:,}** | **{totals[1]:,}** | **{totals[2]:,}** | |",
            "",
            f"Budget: ≤ 150 KB brotli for WASM + JS + CSS, read as {BUDGET_FIRST_VISIT_BROTLI:,} bytes — **{verdict}** "
            f"({totals[2] / BUDGET_FIRST_VISIT_BROTLI:.0%} of it). Read as 150,000 bytes: "
            + (f"under by {150_000 - totals[2]:,} bytes." if totals[2] <= 150_000 else f"**over by {totals[2] - 150_000:,} bytes**."),
        ]
    )


def plans(db):
    con = sqlite3.connect(db)
    queries = {
        "session check (by token hash)": "SELECT s.id, s.user_id, u.name FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = 'x'",
        "sign-in (user by email)": "SELECT id FROM users WHERE email = 'bench-1@example.com'",
        "session list (by user)": "SELECT id FROM sessions WHERE user_id = 'x' AND expires_at > 0 AND last_seen_at > 0 ORDER BY created_at DESC, id DESC",
        "expiry purge": "DELETE FROM sessions WHERE expires_at <= 0 OR last_seen_at <= 0",
    }
    counts = con.execute("SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM sessions)").fetchone()
    out = [f"At {counts[0]:,} users and {counts[1]:,} sessions:", ""]
    for name, sql in queries.items():
        plan = "; ".join(row[3] for row in con.execute("EXPLAIN QUERY PLAN " + sql))
        out.append(f"- {name}: `{plan}`")
    return "\n".join(out)


def exports(work):
    """The "Download your data" section, from `bench/export.py`'s outputs (`export_EVENTS.txt`), or nothing."""
    runs = sorted(
        (f for f in os.listdir(work) if re.fullmatch(r"export_\d+\.txt", f)), key=lambda f: int(f[7:-4])
    )
    if not runs:
        return []
    rows = []
    for name in runs:
        text = open(os.path.join(work, name)).read()
        value = lambda label: re.search(rf"^{re.escape(label)}\s+(.+)$", text, re.M).group(1)
        raw, zipped = re.fullmatch(r"([\d,]+) bytes \(([\d,]+) bytes zipped\)", value("account.json")).groups()
        megabytes = lambda n: f"{int(n.replace(',', '')) / 1e6:.1f} MB"
        kilobytes = lambda n: f"{int(n.replace(',', '')) / 1e3:.0f} KB"
        rows.append(
            f"| {value('events exported')} | {megabytes(raw)} | {kilobytes(zipped)} | {value('time (whole command)')} "
            f"| {value('peak memory, export')} | {value('peak memory, sessions').split(' (')[0]} |"
        )
    return [
        "",
        '## "Download your data" of a long history',
        "",
        "`bench/export.py` seeds one account with a long security history and runs `authkit admin export` on it,",
        "the same `accounts::export::write_zip` the download streams (the release build above, SQLite). Peak",
        "memory is the process's; `sessions` is the same start-up and the same user-agent parser (most of a",
        "process's memory, and the server's) without the export. The file is written as it is read, 500 events",
        "at a time, and never held whole: memory should not grow with the history.",
        "",
        "| events | account.json | ZIP | time (whole command) | peak memory | `sessions` alone |",
        "|---|---|---|---|---|---|",
        *rows,
    ]


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    mem = next((int(l.split()[1]) // 1024 // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB memory, {platform.system()} {platform.release()}, {rustc}"


def sign_in_rounds(work, cores):
    """(e) round by round: each round's sign-ins against the argon2 limit timed just before and just after it.

    The hash is timed alone and while every core hashes at once (side by side, hashes share the memory bus
    and caches, so each takes longer); `bench-baseline argon2` prints the two mean times in ms, then how many
    hashes each mean is of."""
    count = len([f for f in os.listdir(work) if re.fullmatch(r"e_sign_in_\d+\.wrk", f)])
    readings = [[float(x) for x in open(os.path.join(work, f"argon2_{i}")).read().split()] for i in range(count + 1)]
    rounds = []
    for i in range(1, count + 1):
        x = wrk(os.path.join(work, f"e_sign_in_{i}.wrk"))
        for way, column in (("alone", 0), ("all_cores", 1)):
            hash_ms = (readings[i - 1][column] + readings[i][column]) / 2
            x[f"{way}_ms"], x[f"limit_{way}"] = hash_ms, cores / (hash_ms / 1000)
            x[f"ratio_{way}"] = x["rps"] / x[f"limit_{way}"]
        x["hashes_timed"] = int(readings[i][2])
        rounds.append(x)
    return rounds


def report(work):
    r = {name: wrk(os.path.join(work, f"{name}.wrk")) for name in
         ["a_baseline", "a_leptos_floor", "a_leptos_direct", "b_login", "c_profile", "d_session", "f_storm", "f_profile", "f_login"]}
    cores = os.cpu_count()
    rounds = sign_in_rounds(work, cores)
    for i, x in enumerate(rounds, 1):
        r[f"e_sign_in_{i}"] = x

    def row(label, key, conns):
        x = r[key]
        return f"| {label} | {conns} | {x['rps']:,.0f} | {x['p50']:.2f} | {x['p99']:.2f} | {x['errors']} |"

    ratio_c = r["c_profile"]["rps"] / r["a_baseline"]["rps"]
    ratio_floor = r["a_leptos_floor"]["rps"] / r["a_baseline"]["rps"]
    ratio_direct = r["a_leptos_direct"]["rps"] / r["a_baseline"]["rps"]
    # `bench-baseline render-profile` prints the mean time to render /profile's content in µs, its size, and
    # how many renders the mean is of. Every core doing nothing but that would render cores ÷ time pages/s.
    render_us, render_bytes, renders = open(os.path.join(work, "c_render")).read().split()
    render_us = float(render_us)
    render_ceiling = cores / (render_us / 1e6)
    ratio_render = render_ceiling / r["a_baseline"]["rps"]
    # The budget is read against the limit with every core hashing, the way a storm of sign-ins uses them,
    # and for the median round: one round is 10 seconds of a machine whose speed drifts.
    median = sorted(rounds, key=lambda x: x["ratio_all_cores"])[len(rounds) // 2]
    each_round = ", ".join(f"{x['ratio_all_cores']:.0%}" for x in rounds)
    checks = [
        (
            "(c) signed-in `/profile`, rendered on every view, ≥ 7% of (a)",
            f"{ratio_c:.0%} (rendering its content alone, on every core: at most {ratio_render:.0%}; "
            f"the smallest Leptos page: {ratio_floor:.0%} through `leptos_axum`, {ratio_direct:.0%} rendered directly)",
            ratio_c >= 0.07,
        ),
        ("(c) p99 < 20 ms at 64 connections", f"{r['c_profile']['p99']:.2f} ms", r["c_profile"]["p99"] < 20),
        (
            "(e) sign-in ≥ 90% of the argon2 limit",
            f"median round {median['ratio_all_cores']:.0%} of {median['limit_all_cores']:.1f}/s (every core hashing); "
            f"rounds {each_round}",
            median["ratio_all_cores"] >= 0.9,
        ),
        ("(f) `/profile` p99 < 20 ms during the storm", f"{r['f_profile']['p99']:.2f} ms", r["f_profile"]["p99"] < 20),
        ("(f) `/login` p99 < 20 ms during the storm", f"{r['f_login']['p99']:.2f} ms", r["f_login"]["p99"] < 20),
        ("zero errors in every run", str(sum(x["errors"] for x in r.values())), all(x["errors"] == 0 for x in r.values())),
    ]
    out = [
        "# Benchmarks",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()} by `bench/run.sh`: the release",
        "build as it ships (whole-program LTO, one codegen unit; the baselines built the same way), a fresh",
        "SQLite data folder, 1,000 seeded users with 5 sessions each, load from `wrk` in a second process on",
        "loopback (sharing the same cores: these are the figures of one small machine doing both).",
        "",
        "## Throughput and latency",
        "",
        "| Run | Connections | Requests/s | p50 ms | p99 ms | Errors |",
        "|---|---:|---:|---:|---:|---:|",
        row("(a) bare axum handler, fixed body (the ceiling)", "a_baseline", 64),
        row("Leptos' smallest page (shell, one paragraph; no middleware, no database) through `leptos_axum` and its router, as the app serves pages", "a_leptos_floor", 64),
        row("the same page rendered by Leptos alone, in a plain axum handler", "a_leptos_direct", 64),
        row("(b) guest SSR `GET /login`", "b_login", 64),
        row("(c) signed-in SSR `GET /profile`, rendered on every view from data read in that request", "c_profile", 64),
        row("(d) session check alone, `GET /api/session`", "d_session", 64),
        *[row(f"(e) sign-in, `POST /api/login`, round {i}", f"e_sign_in_{i}", 16) for i in range(1, len(rounds) + 1)],
        row("(f) sign-in storm (background)", "f_storm", 16),
        row("(f) signed-in `GET /profile` during the storm", "f_profile", 8),
        row("(f) guest `GET /login` during the storm", "f_login", 8),
        "",
        "## (c) What rendering `/profile` costs by itself",
        "",
        f"Rendering the page's content (its four islands, for a seeded user with 5 sessions: {int(render_bytes):,} bytes",
        f"of HTML) takes {render_us:.0f} µs, the mean of {int(renders):,} renders on one thread, with no HTTP and no",
        f"database (`bench-baseline render-profile`). {cores} cores doing nothing else would render at most",
        f"{render_ceiling:,.0f} pages/s: {ratio_render:.0%} of (a), before the request, the session check, the",
        "data, the page's shell and `wrk`'s own share of the cores are paid for.",
        "",
        "## (e) Sign-in against the argon2 limit",
        "",
        f"The limit is {cores} cores ÷ the time of one argon2id hash (m=19456 KiB, t=2, p=1), the mean of "
        f"{rounds[0]['hashes_timed']}, timed",
        "before and after each round of sign-ins; each round is compared with the mean of the two. The budget is",
        "read against the hash timed while every core hashes at once, as they do in a storm of sign-ins: side by",
        "side, hashes share the memory bus and caches and each takes longer. A hash timed alone assumes the cores",
        "do not slow each other; that reading is shown too.",
        "",
        "| Round | Sign-ins/s | One hash, every core hashing | Limit | Sign-ins against it | One hash alone | Limit | Sign-ins against it |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {i} | {x['rps']:.1f} | {x['all_cores_ms']:.1f} ms | {x['limit_all_cores']:.1f}/s | {x['ratio_all_cores']:.0%} "
            f"| {x['alone_ms']:.1f} ms | {x['limit_alone']:.1f}/s | {x['ratio_alone']:.0%} |"
            for i, x in enumerate(rounds, 1)
        ],
        "",
        "## Budgets",
        "",
        "| Budget | Measured | Met |",
        "|---|---|---|",
        *[f"| {name} | {value} | {'yes' if ok else '**no**'} |" for name, value, ok in checks],
        "",
        "## What a first visit to `/login` downloads",
        "",
        open(os.path.join(work, "sizes.md")).read(),
    ]
    if os.path.exists(os.path.join(work, "live.md")):
        out += [
            "",
            "## Live sign-out (`GET /api/live`)",
            "",
            "Idle server-sent event streams, one per signed-in tab, on the server above "
            "(`bench/live_streams.py`; `bench/live_streams.sh` runs it alone):",
            "",
            open(os.path.join(work, "live.md")).read().strip(),
        ]
    out += exports(work)
    notes = os.path.join(os.path.dirname(__file__), "NOTES.md")
    if os.path.exists(notes):
        out += ["", open(notes).read().strip()]
    if os.path.exists(os.path.join(work, "plans.md")):
        # p50 beside p99: a sign-in's tail is mostly the queue for the two cores' argon2 hashing, and a
        # 10-second run has only ~9 requests above its p99, so the median shows whether the path itself slowed.
        out += [
            "",
            "## Scale: 1,000 users against 1,000,000",
            "",
            "Two servers, one per size, measured in turn, twice (in the order of the rows).",
            "",
            "| Users (5 sessions each) | Round | Session check p50 ms | p99 ms | Sign-in p50 ms | p99 ms | Sign-ins/s |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for round in ["1", "2"]:
            for total in ["1000", "1000000"]:
                s = wrk(os.path.join(work, f"scale_{total}_r{round}_session.wrk"))
                i = wrk(os.path.join(work, f"scale_{total}_r{round}_sign_in.wrk"))
                out.append(
                    f"| {int(total):,} | {round} | {s['p50']:.2f} | {s['p99']:.2f} | {i['p50']:.2f} | {i['p99']:.2f} | {i['rps']:.1f} |"
                )
        out += ["", open(os.path.join(work, "plans.md")).read()]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "sizes":
        print(sizes(sys.argv[2], sys.argv[3]))
    elif command == "plans":
        print(plans(sys.argv[2]))
    elif command == "exports":
        print("\n".join(exports(sys.argv[2])))
    elif command == "report":
        sys.stdout.write(report(sys.argv[2]))
