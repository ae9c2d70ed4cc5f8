-- Portable SQL, like the first migration.
-- Counts the changes to a user and to their sessions. Pages rendered for the user are reused while it
-- stays the same (src/server/page_cache.rs), so every UPDATE of users adds one, and every write to
-- sessions adds one to its owner's in the same transaction (src/server/users.rs, `bump_revision`).
ALTER TABLE users ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
