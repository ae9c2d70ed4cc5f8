//! What the rest of the backend stands on.

pub mod clock;
pub mod cpu_work;
pub mod db;
pub mod error;
pub mod rate_limits;
pub mod secrets;
pub mod settings;
pub mod startup;
pub mod state;
