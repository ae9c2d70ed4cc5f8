-- Failed sign-ins are folded (src/server/accounts/activity.rs, `record_failed_sign_in`): repeats of one
-- kind of failure within an hour of the first add to its row's count instead of adding rows, so guessing
-- at an account cannot grow its owner's list (and the table) by a row per guess.
ALTER TABLE security_events ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1;
