//! One file per page.

pub mod auth_redirect;
pub mod cancel_deletion;
pub mod check_email;
pub mod confirm_email_change;
pub mod download_data;
pub mod forgot_password;
pub mod home;
pub mod login;
pub mod magic_link;
pub mod not_found;
pub mod profile;
pub mod register;
pub mod reset_password;
pub mod secure_account;
pub mod security_activity;
pub mod two_factor_login;
pub mod two_factor_setup;
