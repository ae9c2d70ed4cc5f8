#!/usr/bin/env python3
"""Seeds the app's SQLite database with benchmark users and sessions, directly (fast), in the schema the
server's migrations created. Users are bench-<i>@example.com with the given password hash; each gets
`sessions` sessions whose tokens are derived from (i, k), so the benchmark can present any of them.

usage: seed.py DB PASSWORD_HASH USERS SESSIONS_PER_USER
"""
import base64, hashlib, os, sqlite3, sys, time


def token(i: int, k: int) -> str:
    """A well-formed 256-bit session token (43 base64url characters), reproducible from (i, k)."""
    return base64.urlsafe_b64encode(hashlib.sha256(f"bench-{i}-{k}".encode()).digest()).decode().rstrip("=")


def main() -> None:
    db, phc, users, per_user = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    now = int(time.time())
    con = sqlite3.connect(db, timeout=30)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = OFF")
    batch = 20_000
    for start in range(0, users, batch):
        end = min(start + batch, users)
        con.executemany(
            "INSERT INTO users (id, email, name, password_hash, email_verified_at, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((f"{i:032x}", f"bench-{i}@example.com", f"Bench User {i}", phc, now, now, now) for i in range(start, end)),
        )
        con.executemany(
            "INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, expires_at, ip, user_agent) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (f"{i:024x}{k:08x}", f"{i:032x}", hashlib.sha256(token(i, k).encode()).hexdigest(), now, now,
                 now + 30 * 86400, "127.0.0.1", "bench")
                for i in range(start, end)
                for k in range(per_user)
            ),
        )
        con.commit()
    # Millions of rows leave a write-ahead log of gigabytes; folding it into the database now keeps the
    # server's first checkpoints (and the disk) out of the measurements that follow.
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    # And the seeded gigabytes go to disk now. Left dirty in the page cache, they would be written back
    # during the server's first checkpoint, whose fsync then stalls every writer for about a second: that
    # made the sign-in p99 at 1,000,000 users look like the database's size when it was the seeding's.
    fd = os.open(db, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    os.sync()  # and the file system's own journal of them


if __name__ == "__main__":
    main()
