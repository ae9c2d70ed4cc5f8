//! Reusable pieces of the pages.

pub mod account_settings;
pub mod alert;
pub mod auth_card;
pub mod avatar_upload;
pub mod email_form;
pub mod form_field;
pub mod live_session;
pub mod mailed_link_page;
pub mod name_editor;
pub mod page_address;
pub mod passkeys;
pub mod password_strength;
pub mod server_form;
pub mod sessions_list;
pub mod sign_in_methods;
pub mod submit_button;
pub mod time;
