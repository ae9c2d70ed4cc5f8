//! Where a form post may send the browser, and what it may bring back in the address.

use crate::server::platform::secrets::SecretKey;
use crate::server::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// What signs the errors that a form post without JavaScript carries back to its page in the address
/// (`__path`, `__err`), for `__sig`.
const FORM_ERROR_SIGNATURE: &str = "form error";

/// The two ends of what the server sends a browser away with after a form post, and what it may bring
/// back:
/// - A server function's redirect goes only to a path on this site: the framework sends a form post
///   without JavaScript back to its `Referer`, which any page can set to another site.
/// - The error such a redirect carries in the address (`__err`, decoded and shown by the page's form) is
///   signed with the server's key, and a page shows only a signed one: text a third party put into a
///   link to our site (`/login?__err=…Account suspended, call …`) is dropped before the page renders.
pub async fn only_our_redirects_and_errors(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(query) = req.uri().query() {
        if let Some(kept) = without_unsigned_form_error(query, &app.secret_key) {
            let path = req.uri().path();
            let uri = if kept.is_empty() { path.to_owned() } else { format!("{path}?{kept}") };
            if let Ok(uri) = uri.parse() {
                *req.uri_mut() = uri;
            }
        }
    }
    let is_server_fn = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    if !is_server_fn {
        return res;
    }
    let Some(location) = res.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()) else { return res };
    let local = same_site_path(location, &app.settings.app.base_url);
    let signed = sign_form_error(&local, &app.secret_key);
    if let Ok(value) = HeaderValue::from_str(&signed) {
        res.headers_mut().insert(header::LOCATION, value);
    }
    res
}

/// `location` as a path on this site: an absolute address on `base` loses its origin, one anywhere else
/// (or a protocol-relative `//host/…`) becomes the start page.
fn same_site_path(location: &str, base: &url::Url) -> String {
    if location.starts_with('/') && !location.starts_with("//") && !location.starts_with("/\\") {
        return location.to_owned();
    }
    match base.join(location) {
        Ok(url) if url.origin() == base.origin() => match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        },
        _ => "/".to_owned(),
    }
}

/// The `__path` and `__err` values of a query, decoded, if it has both.
fn form_error_of(query: &str) -> Option<(String, String)> {
    let (mut path, mut err) = (None, None);
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "__path" => path = Some(value.into_owned()),
            "__err" => err = Some(value.into_owned()),
            _ => {}
        }
    }
    path.zip(err)
}

fn form_error_message(path: &str, err: &str) -> String {
    format!("{path}\n{err}")
}

/// `location` with a `__sig` for the form error it carries, if any.
fn sign_form_error(location: &str, key: &SecretKey) -> String {
    let Some((_, query)) = location.split_once('?') else { return location.to_owned() };
    match form_error_of(query) {
        Some((path, err)) => {
            let signature = key.sign(FORM_ERROR_SIGNATURE, &form_error_message(&path, &err));
            format!("{location}&__sig={signature}")
        }
        None => location.to_owned(),
    }
}

/// The query without `__path`, `__err` and `__sig` when it carries a form error the server did not sign;
/// `None` when it has nothing to drop.
fn without_unsigned_form_error(query: &str, key: &SecretKey) -> Option<String> {
    const CARRIED: [&str; 3] = ["__path", "__err", "__sig"];
    let carries = query.split('&').any(|pair| CARRIED.contains(&pair.split('=').next().unwrap_or_default()));
    if !carries {
        return None;
    }
    let signature = url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "__sig")
        .map(|(_, value)| value.into_owned());
    let genuine = match (form_error_of(query), signature) {
        (Some((path, err)), Some(signature)) => {
            key.verify(FORM_ERROR_SIGNATURE, &form_error_message(&path, &err), &signature)
        }
        _ => false,
    };
    if genuine {
        return None;
    }
    tracing::warn!("dropped a form error the server did not sign from an address");
    // Pairs are kept as they were written; only the carried ones go.
    let kept: Vec<&str> =
        query.split('&').filter(|pair| !CARRIED.contains(&pair.split('=').next().unwrap_or_default())).collect();
    Some(kept.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_leave_only_for_paths_on_this_site() {
        let base = url::Url::parse("http://127.0.0.1:3000").unwrap();
        assert_eq!(same_site_path("/profile?notice=x", &base), "/profile?notice=x");
        assert_eq!(same_site_path("http://127.0.0.1:3000/login?e=1", &base), "/login?e=1");
        for elsewhere in
            ["https://evil.test/x", "//evil.test/x", "/\\evil.test", "http://127.0.0.1:3001/", "javascript:alert(1)"]
        {
            assert_eq!(same_site_path(elsewhere, &base), "/", "{elsewhere}");
        }
    }

    #[test]
    fn only_signed_form_errors_stay_in_an_address() {
        let key = SecretKey::from_text("a test key of at least thirty-two characters");
        let signed = sign_form_error("/login?email=a%40b.c&__path=%2Fapi%2Flogin&__err=eyJ4Ijp9", &key);
        let query = signed.split_once('?').unwrap().1;
        assert_eq!(without_unsigned_form_error(query, &key), None, "a signed error stays");
        let forged = query.replace("eyJ4Ijp9", "eyJ5Ijp9");
        assert_eq!(without_unsigned_form_error(&forged, &key).as_deref(), Some("email=a%40b.c"));
        assert_eq!(without_unsigned_form_error("__path=%2Fapi%2Flogin&__err=x", &key).as_deref(), Some(""));
        assert_eq!(without_unsigned_form_error("email=a", &key), None);
    }
}
