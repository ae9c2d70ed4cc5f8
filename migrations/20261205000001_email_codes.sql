-- One-time codes beside mailed links (issue #27): a verification or magic-link mail also carries a 6-digit
-- code, which does what its link does. The code is kept only as an HMAC under the server's key, bound to
-- the link's hash (src/server/accounts/email_tokens.rs); it dies after 5 wrong tries (`code_tries`).
ALTER TABLE email_tokens ADD COLUMN code_hash TEXT;
ALTER TABLE email_tokens ADD COLUMN code_tries INTEGER NOT NULL DEFAULT 0;
