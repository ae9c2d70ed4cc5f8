//! Signed-in devices: one row per session (`store`, whose functions are these), what a device's browser
//! is called in the list (`user_agents`), and live news of them for open tabs (`live`).

pub mod live;
pub mod store;
pub mod user_agents;

pub use store::*;
