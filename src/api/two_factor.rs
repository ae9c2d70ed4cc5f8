//! Two-factor authentication: the second step of a sign-in, and setting it up, off and anew from the
//! profile. The how is in `server::accounts::two_factor`.

use crate::error::AppError;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos::server_fn::ServerFn as _;
use serde::{Deserialize, Serialize};

/// What `/profile/two-factor` shows: the secret to set up with, or, once on, the new recovery codes
/// (once), or neither.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TwoFactorPage {
    SetUp { secret: String, qr_code: String },
    RecoveryCodes(Vec<String>),
    On { recovery_codes_left: u32 },
}

#[server(endpoint = "two_factor_page")]
pub async fn get_two_factor_page() -> Result<TwoFactorPage, AppError> {
    use crate::server::accounts::two_factor::{self, Status};
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let session = req.session()?;
    if let Some(codes) = two_factor::take_codes_to_show(&req.app, &session).await? {
        return Ok(TwoFactorPage::RecoveryCodes(codes));
    }
    if let Some(enrolment) = two_factor::enrolment(&req.app, &session).await? {
        return Ok(TwoFactorPage::SetUp { secret: enrolment.secret, qr_code: enrolment.qr_code });
    }
    match two_factor::status(req.app.db.reads(), &session.user_id).await? {
        Status::On { recovery_codes_left } => Ok(TwoFactorPage::On { recovery_codes_left }),
        Status::Off => Err(AppError::Unexpected),
    }
}

/// "Turn on": the first right code from the app turns two-factor on; the page then shows the recovery codes.
#[server(endpoint = "turn_on_two_factor")]
pub async fn turn_on_two_factor(code: String, current_password: String) -> Result<(), AppError> {
    use crate::routes::paths;
    use crate::server::accounts::two_factor;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let session = req.session()?;
    req.form(paths::TWO_FACTOR, TurnOnTwoFactor::PATH, async {
        req.limit_reauthentication(&session).await?;
        req.limit_second_factor_attempt(&session).await?;
        two_factor::turn_on(&req.app, &session, &req.client, &code, &current_password).await?;
        leptos_axum::redirect(paths::TWO_FACTOR);
        Ok(())
    })
    .await
}

#[server(endpoint = "turn_off_two_factor")]
pub async fn turn_off_two_factor(current_password: String) -> Result<(), AppError> {
    use crate::routes::{paths, Notice};
    use crate::server::accounts::two_factor;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let session = req.session()?;
    req.form(paths::PROFILE, TurnOffTwoFactor::PATH, async {
        req.limit_reauthentication(&session).await?;
        two_factor::turn_off(&req.app, &session, &req.client, &current_password).await?;
        leptos_axum::redirect(&Notice::TwoFactorOff.on(paths::PROFILE));
        Ok(())
    })
    .await
}

#[server(endpoint = "new_recovery_codes")]
pub async fn new_recovery_codes(current_password: String) -> Result<(), AppError> {
    use crate::routes::paths;
    use crate::server::accounts::two_factor;
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let session = req.session()?;
    req.form(paths::PROFILE, NewRecoveryCodes::PATH, async {
        req.limit_reauthentication(&session).await?;
        two_factor::renew_recovery_codes(&req.app, &session, &req.client, &current_password).await?;
        leptos_axum::redirect(paths::TWO_FACTOR);
        Ok(())
    })
    .await
}

/// "Verify" on `/login/two-factor`: a code from the authenticator app, or a recovery code.
#[server(endpoint = "verify_two_factor")]
pub async fn verify_two_factor(code: String) -> Result<(), AppError> {
    use crate::routes::{paths, Notice};
    use crate::server::accounts::two_factor::{self, Refusal};
    use crate::server::http::request_context::RequestContext;

    let req = RequestContext::get();
    let challenge = req.second_factor_challenge();
    let outcome = two_factor::complete(&req.app, challenge.as_deref(), &code, &req.browser()).await;
    match outcome.map_err(AppError::from) {
        Ok(Ok(session_token)) => {
            req.clear_second_factor();
            req.start_session(session_token).await;
            leptos_axum::redirect(paths::PROFILE);
            Ok(())
        }
        Ok(Err(Refusal::WrongCode)) => {
            req.fail_back_to(paths::LOGIN_TWO_FACTOR, VerifyTwoFactor::PATH, AppError::InvalidCode)
        }
        // Back to the password, which nobody can skip.
        Ok(Err(Refusal::NoChallenge)) => {
            req.clear_second_factor();
            leptos_axum::redirect(&Notice::SignInAgain.login_url());
            Err(AppError::SignInAgain)
        }
        Err(e) => req.fail_back_to(paths::LOGIN_TWO_FACTOR, VerifyTwoFactor::PATH, e),
    }
}
