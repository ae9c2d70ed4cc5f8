-- Passkey ceremonies no longer wait in the database (src/server/accounts/passkeys.rs): a ceremony is
-- sealed into the browser's cookie with the server's key, so starting one, which anyone may do, writes
-- no row. Only an answered ceremony is recorded, until it would have expired, so that it is answered once.
DROP TABLE webauthn_ceremonies;
CREATE TABLE webauthn_answered (
    ceremony_hash TEXT PRIMARY KEY,   -- `secrets::hash_token` of the sealed ceremony
    expires_at    BIGINT NOT NULL
);
CREATE INDEX webauthn_answered_by_expiry ON webauthn_answered (expires_at);
