-- Accounts their owners deleted (src/server/accounts/deletion.rs): nobody signs in to them, and they are
-- erased, every row and file, once `erase_after` has passed, unless the mailed "Cancel deletion" link (kept
-- only as its hash) takes the row out first. An app server erasing one claims it (`eraser`, until
-- `erasing_until`), so that of several servers one erases; a claim left by a crash runs out and is taken
-- again. Every other table that holds an account's rows refers to users with ON DELETE CASCADE, so the
-- account's last statement is one DELETE.
CREATE TABLE account_deletions (
    user_id           TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    requested_at      BIGINT NOT NULL,
    erase_after       BIGINT NOT NULL,
    cancel_token_hash TEXT NOT NULL UNIQUE,
    eraser            TEXT,
    erasing_until     BIGINT
);
CREATE INDEX account_deletions_due ON account_deletions (erase_after);
