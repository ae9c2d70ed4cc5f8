//! One log line per account event, with the user id and never a secret, under the `audit` target so it
//! can be routed apart from request logs (`RUST_LOG=audit=info`).

pub fn event(name: &'static str, user_id: &str) {
    tracing::info!(target: "audit", event = name, user_id, "account event");
}

/// A failed sign-in for an address with no account: there is no user id to log.
pub fn unknown_account(name: &'static str) {
    tracing::info!(target: "audit", event = name, "account event");
}
