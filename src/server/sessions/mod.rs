//! Signed-in devices: one row per session (`store`, whose functions are these), and what a device's
//! browser is called in the list (`user_agents`).

pub mod store;
pub mod user_agents;

pub use store::*;
