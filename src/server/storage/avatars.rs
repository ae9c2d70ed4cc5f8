//! Avatar upload (`POST /api/avatar`) and serving (`GET /avatars/{name}`): plain axum routes, because the
//! upload is multipart and streams, and the hydrated page reports its progress through XMLHttpRequest.

use crate::avatar::AvatarProblem;
use crate::routes::paths;
use crate::server::accounts::audit;
use crate::server::accounts::users;
use crate::server::platform::cpu_work::Admission;
use crate::server::platform::state::AppState;
use crate::server::sessions::store::Lookup;
use crate::server::storage::files::is_avatar_name;
use crate::server::storage::images::{self, ImageError, NoMemory};
use axum::body::{Body, HttpBody as _};
use axum::extract::{FromRequest as _, Multipart, Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use unicode_segmentation::UnicodeSegmentation;

/// Room for the multipart boundaries and headers around the file itself.
pub const MULTIPART_OVERHEAD: u64 = 64 * 1024;

/// The form field the file comes in.
pub const FIELD: &str = "avatar";

/// Takes an upload, checks and re-encodes it, stores it under a new name, points the user at it and
/// deletes the previous file. The hydrated page asks for `text/plain` and gets the new URL (or the
/// message) as the body; a plain form post is redirected back to the profile.
pub async fn upload(State(app): State<AppState>, Extension(lookup): Extension<Lookup>, request: Request) -> Response {
    let (from_page_script, declared) = {
        let header_str = |name| request.headers().get(name).and_then(|v| v.to_str().ok());
        (
            header_str(header::ACCEPT).is_some_and(|a| a.starts_with("text/plain")),
            header_str(header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok()),
        )
    };
    let result = async {
        let session = lookup.active().ok_or(AvatarProblem::SignInRequired)?.clone();
        let max = app.settings.storage.avatar_max_bytes();
        // Refused from the declared length, before anything of the body is kept.
        if let Some(len) = declared.filter(|len| *len > max + MULTIPART_OVERHEAD) {
            if len <= DRAIN_AT_MOST {
                drain(request.into_body()).await;
            }
            return Err(AvatarProblem::TooLarge);
        }
        if app.limits.avatar_upload(&session.user_id).await.is_err() {
            return Err(AvatarProblem::TooMany);
        }
        let multipart = Multipart::from_request(request, &app).await.map_err(|_| AvatarProblem::Missing)?;
        let bytes = read_file(multipart, max).await?;
        let inspected = images::inspect(&bytes).map_err(problem_of)?;
        // Decoding takes memory in proportion to the pixels, far more than the file's size: a decode
        // starts only once its share of the budget is free, and waits for it in a short queue.
        let memory = app.decode_memory.hold(inspected.memory_needed).await.map_err(|e| match e {
            NoMemory::TooLarge => AvatarProblem::TooManyPixels,
            NoMemory::Busy => AvatarProblem::Busy,
        })?;
        let jpeg = app
            .cpu
            .run(Admission::Decode, move || images::avatar_from_upload(&bytes, inspected))
            .await
            .map_err(|e| match e {
                crate::server::Error::Busy => AvatarProblem::Busy,
                _ => AvatarProblem::Failed,
            })?
            .map_err(problem_of)?;
        drop(memory);
        let failed = |e: crate::server::Error| {
            tracing::error!(error = %e, "avatar upload failed");
            AvatarProblem::Failed
        };
        let name = app.storage.put_avatar(jpeg).await.map_err(failed)?;
        let previous = match users::set_avatar(&app.db, &session.user_id, app.now(), &name).await {
            Ok(previous) => previous,
            Err(e) => {
                let _ = app.storage.delete_avatar(&name).await;
                return Err(failed(e.into()));
            }
        };
        if let Some(previous) = previous {
            // The user already has the new picture; a leftover file is only wasted space, so log and go on.
            if let Err(e) = app.storage.delete_avatar(&previous).await {
                tracing::warn!(error = %e, "could not delete the previous avatar");
            }
        }
        audit::event("avatar_changed", &session.user_id);
        Ok(avatar_url(&name))
    }
    .await;

    match (result, from_page_script) {
        (Ok(url), true) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], url).into_response(),
        (Ok(_), false) => Redirect::to(paths::PROFILE).into_response(),
        (Err(problem), true) => {
            (status_of(problem), [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], problem.message())
                .into_response()
        }
        (Err(AvatarProblem::SignInRequired), false) => Redirect::to(paths::LOGIN).into_response(),
        (Err(problem), false) => {
            Redirect::to(&format!("{}?avatar_error={}", paths::PROFILE, problem.code())).into_response()
        }
    }
}

fn problem_of(e: ImageError) -> AvatarProblem {
    match e {
        ImageError::NotAnImage => AvatarProblem::NotAnImage,
        ImageError::TooManyPixels { .. } => AvatarProblem::TooManyPixels,
        ImageError::Unreadable => AvatarProblem::Unreadable,
    }
}

fn status_of(problem: AvatarProblem) -> StatusCode {
    match problem {
        AvatarProblem::SignInRequired => StatusCode::UNAUTHORIZED,
        AvatarProblem::Missing => StatusCode::BAD_REQUEST,
        AvatarProblem::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        AvatarProblem::NotAnImage => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        AvatarProblem::TooManyPixels | AvatarProblem::Unreadable => StatusCode::UNPROCESSABLE_ENTITY,
        AvatarProblem::TooMany => StatusCode::TOO_MANY_REQUESTS,
        AvatarProblem::Busy => StatusCode::SERVICE_UNAVAILABLE,
        AvatarProblem::Failed => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A body declared over the limit is still read, and thrown away, before the answer when it is at most
/// this long: a browser still sending when the server answers and closes the connection shows its own
/// connection error, not the answer (the profile with the reason). Longer ones get the answer at once.
const DRAIN_AT_MOST: u64 = 32 * 1024 * 1024;

/// Reads a body to its end without keeping it.
async fn drain(body: Body) {
    let mut body = std::pin::pin!(body);
    let mut read = 0u64;
    while let Some(Ok(frame)) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        read += frame.data_ref().map_or(0, |d| d.len() as u64);
        if read > DRAIN_AT_MOST {
            return;
        }
    }
}

/// Reads the file field chunk by chunk, giving up as soon as it passes `max` bytes.
async fn read_file(mut multipart: Multipart, max: u64) -> Result<Vec<u8>, AvatarProblem> {
    let too_large_or = |fallback, status: StatusCode| {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            AvatarProblem::TooLarge
        } else {
            fallback
        }
    };
    while let Some(mut field) =
        multipart.next_field().await.map_err(|e| too_large_or(AvatarProblem::Missing, e.status()))?
    {
        if field.name() != Some(FIELD) {
            continue;
        }
        let mut data = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| too_large_or(AvatarProblem::Unreadable, e.status()))? {
            if (data.len() + chunk.len()) as u64 > max {
                return Err(AvatarProblem::TooLarge);
            }
            data.extend_from_slice(&chunk);
        }
        return if data.is_empty() { Err(AvatarProblem::Missing) } else { Ok(data) };
    }
    Err(AvatarProblem::Missing)
}

/// Serves a stored avatar. The name changes whenever the picture does, so it may be cached for good; the
/// headers make sure a browser only ever treats it as an image.
pub async fn serve(State(app): State<AppState>, Path(name): Path<String>) -> Response {
    if !is_avatar_name(&name) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match app.storage.get_avatar(&name).await {
        Ok(Some(bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
                (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox")),
                (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "serving an avatar failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub fn avatar_url(name: &str) -> String {
    format!("/avatars/{name}")
}

/// The picture of a user without an avatar: their initials on a colour derived from their id, drawn
/// here as an SVG data URI (no outside service learns who looks at whom).
pub fn default_avatar(name: &str, user_id: &str) -> String {
    let initials: String = name
        .split_whitespace()
        .filter_map(|word| word.graphemes(true).next())
        .take(2)
        .collect::<String>()
        .to_uppercase();
    let hue = user_id.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 360;
    let svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 64 64'>\
         <rect width='64' height='64' fill='hsl({hue},45%,36%)'/>\
         <text x='32' y='32' dy='.35em' text-anchor='middle' font-family='system-ui,sans-serif' \
         font-size='26' font-weight='600' fill='#fff'>{}</text></svg>",
        html_escape::encode_quoted_attribute(&initials)
    );
    format!("data:image/svg+xml,{}", crate::routes::encode_query_value(&svg))
}

#[cfg(test)]
mod tests {
    use super::default_avatar;

    #[test]
    fn default_avatars_show_escaped_initials_on_a_stable_colour() {
        let a = default_avatar("ada lovelace", "user-1");
        assert_eq!(a, default_avatar("ada lovelace", "user-1"));
        assert!(a.starts_with("data:image/svg+xml,"));
        assert!(a.contains("%3EAL%3C"), "{a}");
        let evil = default_avatar("<script> x", "user-2");
        assert!(!evil.contains('<') && evil.contains("%26lt%3B"), "{evil}");
    }
}
