//! Users and their account, as one module whose functions read like the feature list: sign up, sign in
//! (with a password or a mailed link), mail a link, reset or change the password, change the address.
//! The server functions in `src/api` call these; the submodules hold how.

pub mod activity;
pub mod audit;
pub mod credentials;
pub mod deletion;
pub mod email_tokens;
pub mod export;
pub mod known_devices;
pub mod lifecycle;
pub mod mailed_links;
pub mod passkeys;
pub mod passwords;
pub mod secure_account;
pub mod sign_in;
pub mod sign_up;
pub mod two_factor;
pub mod users;

pub use credentials::{
    change_password, confirm_email_change, preview_email_change, request_email_change, reset_link_is_usable,
    reset_password, PendingEmailChange,
};
pub use mailed_links::{mail_link, MailedLink};
pub use sign_in::{
    preview_link, sign_in, sign_in_with_link, sign_out, sign_out_device, sign_out_other_devices, Browser, FromMail,
    SignedIn, SignedInWithLink,
};
pub use sign_up::{mail_verification, resend_verification, sign_up, SignUpOutcome};
