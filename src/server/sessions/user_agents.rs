//! Names the device behind a session from its user agent: "Firefox on Windows", "Safari on iPhone".
//!
//! The patterns are uap-core's (see `user_agents/VERSION`; refresh with `scripts/update-user-agent-data.sh`),
//! matched by the ua-parser crate.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

static EXTRACTOR: LazyLock<Option<ua_parser::Extractor<'static>>> = LazyLock::new(|| {
    let regexes: ua_parser::Regexes<'static> = match serde_json::from_str(include_str!("user_agents/regexes.json")) {
        Ok(regexes) => regexes,
        Err(e) => {
            tracing::error!(error = %e, "the user-agent patterns do not load; devices will show as unknown");
            return None;
        }
    };
    ua_parser::Extractor::try_from(regexes)
        .map_err(|e| tracing::error!(error = ?e, "the user-agent patterns do not compile"))
        .ok()
});

pub const UNKNOWN: &str = "Unknown device";

/// Compiling the patterns takes a moment; the server does it at start instead of in a request.
pub fn warm_up() {
    LazyLock::force(&EXTRACTOR);
}

/// Matching a user agent against a thousand patterns costs far more than rendering the rest of a page,
/// and the same few browsers come back again and again: names are remembered (up to a bound).
static NAMED: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(|| Mutex::new(HashMap::new()));
const REMEMBERED: usize = 10_000;

pub fn describe(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|ua| !ua.trim().is_empty()) else {
        return UNKNOWN.to_owned();
    };
    if let Some(name) = NAMED.lock().ok().and_then(|named| named.get(ua).cloned()) {
        return name;
    }
    let name = name_of(ua);
    if let Ok(mut named) = NAMED.lock() {
        if named.len() >= REMEMBERED {
            named.clear();
        }
        named.insert(ua.to_owned(), name.clone());
    }
    name
}

fn name_of(ua: &str) -> String {
    let Some(extractor) = EXTRACTOR.as_ref() else {
        return UNKNOWN.to_owned();
    };
    let (browser, os, device) = extractor.extract(ua);
    let browser = browser.map(|b| browser_name(&b.family)).filter(|b| b != "Other");
    let device = device.map(|d| d.device.into_owned());
    // Apple's handhelds read better by device than by OS ("Safari on iPhone", not "Safari on iOS").
    let platform = match device.as_deref() {
        Some(d @ ("iPhone" | "iPad" | "iPod")) => Some(d.to_owned()),
        _ => os.map(|o| os_name(&o.os)).filter(|o| o != "Other"),
    };
    match (browser, platform) {
        (Some(b), Some(p)) => format!("{b} on {p}"),
        (Some(b), None) => b,
        (None, Some(p)) => p,
        (None, None) => UNKNOWN.to_owned(),
    }
}

fn browser_name(family: &str) -> String {
    match family {
        "Mobile Safari" | "Mobile Safari UI/WKWebView" => "Safari",
        "Chrome Mobile" | "Chrome Mobile iOS" | "Chrome Mobile WebView" => "Chrome",
        "Firefox Mobile" | "Firefox iOS" => "Firefox",
        "Edge Mobile" => "Edge",
        "HeadlessChrome" => "Headless Chrome",
        other => other,
    }
    .to_owned()
}

fn os_name(family: &str) -> String {
    match family {
        "Mac OS X" => "macOS",
        "Chrome OS" => "ChromeOS",
        other => other,
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn common_devices_get_plain_names() {
        let cases = [
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Windows"),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
        ];
        for (ua, expected) in cases {
            assert_eq!(describe(Some(ua)), expected, "{ua}");
        }
    }

    #[test]
    fn missing_or_odd_agents_are_unknown() {
        assert_eq!(describe(None), "Unknown device");
        assert_eq!(describe(Some("  ")), "Unknown device");
        assert_eq!(describe(Some("curl/8.5.0")), "curl");
    }
}
