-- Adding a passkey waits for the browser's answer here (src/server/accounts/passkeys.rs), not sealed in
-- a cookie as a sign-in does: its state lists the account's passkeys (so one device is not added twice)
-- and can outgrow what a browser keeps in a cookie. Only a signed-in session, after its password, starts
-- one; it is taken out by the answer.
CREATE TABLE passkey_registrations (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    state      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX passkey_registrations_by_expiry ON passkey_registrations (expires_at);
