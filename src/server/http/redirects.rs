//! Where a form post may send the browser, and what it may bring back in the address.

use crate::server::platform::clock::UnixTime;
use crate::server::platform::secrets::SecretKey;
use crate::server::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// What signs the errors that a form post without JavaScript carries back to its page in the address
/// (`__path`, `__err`), for `__sig`.
const FORM_ERROR_SIGNATURE: &str = "form error";

/// How long a signed form error may be shown: long enough to follow the redirect and reload the page,
/// short enough that a link carrying one ("wait 60 minutes") is no use to send to someone else.
const FORM_ERROR_SHOWN_FOR_SECS: i64 = 600;

/// The query parameters that carry a form's error.
const CARRIED: [&str; 3] = ["__path", "__err", "__sig"];

/// The two ends of what the server sends a browser away with after a form post, and what it may bring
/// back:
/// - A server function's redirect goes only to a path on this site: the framework sends a form post
///   without JavaScript back to its `Referer`, which any page can set to another site.
/// - The error such a redirect carries in the address (`__err`, decoded and shown by the page's form) is
///   signed with the server's key and the time, and a page shows only a recent signed one: text a third
///   party put into a link to our site (`/login?__err=…Account suspended, call …`) is dropped before the
///   page renders.
pub async fn only_our_redirects_and_errors(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(query) = req.uri().query() {
        if let Some(kept) = without_unsigned_form_error(query, &app.secret_key, app.now()) {
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
    let signed = sign_form_error(&local, &app.secret_key, app.now());
    if let Ok(value) = HeaderValue::from_str(&signed) {
        res.headers_mut().insert(header::LOCATION, value);
    }
    res
}

/// `location` as a path on this site: resolved against `base` as a browser would, kept (path and query)
/// if it lands on `base`'s origin, the start page otherwise (another site, `//host/…`, `/\host`, a tab
/// a browser would drop).
fn same_site_path(location: &str, base: &url::Url) -> String {
    if location.chars().any(|c| c.is_control() || c == '\\') {
        return "/".to_owned();
    }
    match base.join(location) {
        Ok(url) if url.origin() == base.origin() => match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        },
        _ => "/".to_owned(),
    }
}

/// A query's pairs, each as written and with its decoded key (keys may be percent-encoded: `%5F%5Ferr`
/// is `__err` to the page that reads it).
fn pairs(query: &str) -> Vec<(&str, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let key = url::form_urlencoded::parse(pair.as_bytes()).next().map(|(k, _)| k.into_owned());
            (pair, key.unwrap_or_default())
        })
        .collect()
}

/// The last value of `name` in a query, decoded: the one a page reads.
fn last_value(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes()).filter(|(key, _)| key == name).last().map(|(_, v)| v.into_owned())
}

fn form_error_message(path: &str, err: &str, issued_at: UnixTime) -> String {
    format!("{issued_at}\n{path}\n{err}")
}

/// `location` with one `__path`, one `__err` (the newest: the framework appends a new error to the page's
/// address, which may still carry an earlier one) and their `__sig`, if it carries a form error.
fn sign_form_error(location: &str, key: &SecretKey, now: UnixTime) -> String {
    let Some((path, query)) = location.split_once('?') else { return location.to_owned() };
    let (Some(error_path), Some(err)) = (last_value(query, "__path"), last_value(query, "__err")) else {
        return location.to_owned();
    };
    let mut kept: Vec<String> = pairs(query)
        .into_iter()
        .filter(|(_, key)| !CARRIED.contains(&key.as_str()))
        .map(|(p, _)| p.to_owned())
        .collect();
    let signature = key.sign(FORM_ERROR_SIGNATURE, &form_error_message(&error_path, &err, now));
    let encode = crate::routes::encode_query_value;
    kept.push(format!("__path={}", encode(&error_path)));
    kept.push(format!("__err={}", encode(&err)));
    kept.push(format!("__sig={now}.{signature}"));
    format!("{path}?{}", kept.join("&"))
}

/// The query without any of `__path`, `__err` and `__sig` unless they carry a form error the server
/// signed in the last `FORM_ERROR_SHOWN_FOR_SECS`; `None` when there is nothing to drop.
fn without_unsigned_form_error(query: &str, key: &SecretKey, now: UnixTime) -> Option<String> {
    let pairs = pairs(query);
    if !pairs.iter().any(|(_, key)| CARRIED.contains(&key.as_str())) {
        return None;
    }
    let genuine = match (last_value(query, "__path"), last_value(query, "__err"), last_value(query, "__sig")) {
        (Some(path), Some(err), Some(sig)) => sig.split_once('.').is_some_and(|(issued_at, signature)| {
            issued_at.parse::<UnixTime>().is_ok_and(|issued_at| {
                (0..=FORM_ERROR_SHOWN_FOR_SECS).contains(&(now - issued_at))
                    && key.verify(FORM_ERROR_SIGNATURE, &form_error_message(&path, &err, issued_at), signature)
            })
        }),
        _ => false,
    };
    if genuine {
        return None;
    }
    tracing::info!("dropped a form error the server did not sign (or signed too long ago) from an address");
    let kept: Vec<&str> =
        pairs.into_iter().filter(|(_, key)| !CARRIED.contains(&key.as_str())).map(|(pair, _)| pair).collect();
    Some(kept.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_text("a test key of at least thirty-two characters")
    }

    #[test]
    fn redirects_leave_only_for_paths_on_this_site() {
        let base = url::Url::parse("http://127.0.0.1:3000").unwrap();
        assert_eq!(same_site_path("/profile?notice=x", &base), "/profile?notice=x");
        assert_eq!(same_site_path("http://127.0.0.1:3000/login?e=1", &base), "/login?e=1");
        for elsewhere in [
            "https://evil.test/x",
            "//evil.test/x",
            "/\\evil.test",
            "/\t/evil.test",
            "http://127.0.0.1:3001/",
            "javascript:alert(1)",
        ] {
            assert_eq!(same_site_path(elsewhere, &base), "/", "{elsewhere:?}");
        }
    }

    #[test]
    fn only_recent_signed_form_errors_stay_in_an_address() {
        let now = 1_000_000;
        let signed = sign_form_error("/login?email=a%40b.c&__path=%2Fapi%2Flogin&__err=eyJ4Ijp9", &key(), now);
        let query = signed.split_once('?').unwrap().1;
        assert_eq!(without_unsigned_form_error(query, &key(), now + 60), None, "a signed error stays");
        let too_late = without_unsigned_form_error(query, &key(), now + FORM_ERROR_SHOWN_FOR_SECS + 1);
        assert_eq!(too_late.as_deref(), Some("email=a%40b.c"));
        let forged = query.replace("eyJ4Ijp9", "eyJ5Ijp9");
        assert_eq!(without_unsigned_form_error(&forged, &key(), now).as_deref(), Some("email=a%40b.c"));
        assert_eq!(without_unsigned_form_error("__path=%2Fapi%2Flogin&__err=x", &key(), now).as_deref(), Some(""));
        assert_eq!(without_unsigned_form_error("email=a", &key(), now), None);
    }

    #[test]
    fn encoded_names_are_the_names_a_page_reads() {
        let planted = "%5F%5Fpath=%2Fapi%2Flogin&%5f%5Ferr=eyJ4Ijp9&email=a";
        assert_eq!(without_unsigned_form_error(planted, &key(), 0).as_deref(), Some("email=a"));
    }

    #[test]
    fn a_second_error_on_the_same_page_replaces_the_first_and_is_signed() {
        let now = 1_000_000;
        let first = sign_form_error("/profile?__path=%2Fapi%2Fa&__err=b25l", &key(), now);
        // The framework appends the next error to the page's address as it is.
        let second = sign_form_error(&format!("{first}&__path=%2Fapi%2Fa&__err=dHdv"), &key(), now + 5);
        let query = second.split_once('?').unwrap().1;
        assert_eq!(query.matches("__err=").count(), 1, "{query}");
        assert!(query.contains("__err=dHdv"), "{query}");
        assert_eq!(without_unsigned_form_error(query, &key(), now + 6), None);
    }
}
