-- Accounts an operator locked (`authkit admin lock`, src/server/operator.rs): nobody signs in to them,
-- and they have no sessions, until `authkit admin unlock`.
ALTER TABLE users ADD COLUMN locked_at BIGINT;
