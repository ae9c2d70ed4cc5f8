//! One file per page.

pub mod auth_redirect;
pub mod check_email;
pub mod home;
pub mod login;
pub mod not_found;
pub mod profile;
pub mod register;
