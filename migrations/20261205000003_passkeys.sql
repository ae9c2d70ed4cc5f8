-- Passkeys (WebAuthn; issue #27; src/server/accounts/passkeys.rs).

-- An account's passkeys. `credential_id`: the authenticator's id for it (base64url), unique across
-- accounts. `passkey`: webauthn-rs's record of it as JSON (the public key and the signature counter; no
-- secret). `name`: what the profile lists it as, after the device that made it; renamable.
CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    passkey       TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);

-- A ceremony between its two requests: the challenge the browser was given and what webauthn-rs needs
-- to check the answer, for the browser holding the token (stored hashed), once, for a few minutes.
-- `kind`: 'register' (then `user_id` and `session_id` say who asked) or 'sign_in'.
CREATE TABLE webauthn_ceremonies (
    token_hash TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT,
    state      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_by_expiry ON webauthn_ceremonies (expires_at);
