//! What the profile's "Sign-in methods" section lists: the account's passkeys and its two-factor state.

use crate::api::passkeys::PasskeyView;
use serde::{Deserialize, Serialize};

/// What the profile's "Sign-in methods" section shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInMethods {
    /// The server's clock, for "added 2 days ago" (as `DeviceList::now`).
    pub now: i64,
    pub passkeys: Vec<PasskeyView>,
    /// `None`: two-factor is off. `Some(n)`: on, with `n` recovery codes left.
    pub two_factor: Option<u32>,
}

/// The account's passkeys and two-factor state, read on `conn` (the connection `/profile` reads with).
#[cfg(feature = "ssr")]
pub(crate) async fn read_sign_in_methods(
    conn: &mut sqlx::AnyConnection,
    now: i64,
    user_id: &str,
) -> Result<SignInMethods, crate::error::AppError> {
    use crate::server::accounts::passkeys;
    use crate::server::accounts::two_factor::{self, Status};

    let two_factor = match two_factor::status(&mut *conn, user_id).await? {
        Status::Off => None,
        Status::On { recovery_codes_left } => Some(recovery_codes_left),
    };
    let passkeys = passkeys::list(&mut *conn, user_id).await?.into_iter().map(PasskeyView::from).collect();
    Ok(SignInMethods { now, passkeys, two_factor })
}
