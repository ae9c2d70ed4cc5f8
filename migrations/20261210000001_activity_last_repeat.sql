-- A folded row of failed sign-ins (src/server/accounts/activity.rs, `record_failed_sign_in`) keeps the
-- time of its latest failure too: the list shows when the last one happened, not only the first.
-- NULL while the row holds one failure.
ALTER TABLE security_events ADD COLUMN last_at BIGINT;
