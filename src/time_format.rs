//! Times as people read them: "2 minutes ago", with the exact time (UTC) for a tooltip, and lengths of
//! time: how long ago, how long to wait, how long a link lasts. Shared by the server's HTML, its mails and
//! the hydrated page, which must render the same text.

use std::time::Duration;

/// "just now", "5 minutes ago", "3 hours ago", "yesterday", "12 days ago".
pub fn relative(now: i64, then: i64) -> String {
    match now.saturating_sub(then).max(0) {
        0..=44 => "just now".into(),
        86400..=172799 => "yesterday".into(),
        seconds => format!("{} ago", span(seconds)),
    }
}

/// A length of time as people round it: "1 minute", "40 minutes", "1 hour", "3 hours", "12 days".
pub fn span(seconds: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match seconds.max(0) {
        0..=89 => "1 minute".into(),
        seconds @ 90..=2699 => plural((seconds + 30) / 60, "minute"),
        2700..=5399 => "1 hour".into(),
        seconds @ 5400..=86399 => plural((seconds + 1800) / 3600, "hour"),
        seconds => plural(seconds / 86400, "day"),
    }
}

/// A length the operator set, said exactly: "15 minutes", "24 hours", "7 days". Up to two days read
/// better in hours ("24 hours", not "1 day").
pub fn exact_length(d: Duration) -> String {
    let s = d.as_secs();
    let (n, unit) = if s.is_multiple_of(86400) && s > 2 * 86400 {
        (s / 86400, "day")
    } else if s.is_multiple_of(3600) {
        (s / 3600, "hour")
    } else if s.is_multiple_of(60) {
        (s / 60, "minute")
    } else {
        (s, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// How long to wait before trying again, rounded up so that trying then works: "30 seconds", "a minute",
/// "12 minutes", "an hour", "2 hours".
pub fn wait(seconds: u64) -> String {
    match seconds {
        0..=1 => "a second".into(),
        2..=59 => format!("{seconds} seconds"),
        60 => "a minute".into(),
        3600 => "an hour".into(),
        // Up to an hour and a half reads better in minutes ("75 minutes", not "2 hours").
        61..=5399 => format!("{} minutes", seconds.div_ceil(60)),
        _ => format!("{} hours", seconds.div_ceil(3600)),
    }
}

/// The moment `unix` (seconds) in UTC; out of range, the epoch.
fn utc(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// "25 Nov 2026, 11:48 UTC".
pub fn exact_utc(unix: i64) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute] UTC");
    utc(unix).format(format).unwrap_or_default()
}

/// "2026-11-25T11:48:32Z", for `<time datetime>`.
pub fn iso_utc(unix: i64) -> String {
    utc(unix).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_round_like_people_do() {
        let now = 1_000_000;
        assert_eq!(relative(now, now), "just now");
        assert_eq!(relative(now, now - 60), "1 minute ago");
        assert_eq!(relative(now, now - 120), "2 minutes ago");
        assert_eq!(relative(now, now - 3600), "1 hour ago");
        assert_eq!(relative(now, now - 5 * 3600), "5 hours ago");
        assert_eq!(relative(now, now - 86400), "yesterday");
        assert_eq!(relative(now, now - 9 * 86400), "9 days ago");
        assert_eq!(relative(now, now + 30), "just now");
    }

    #[test]
    fn spans_round_as_relative_times_do() {
        assert_eq!(span(60), "1 minute");
        assert_eq!(span(2_400), "40 minutes");
        assert_eq!(span(3_000), "1 hour");
        assert_eq!(span(7_200), "2 hours");
        assert_eq!(span(86_400), "1 day");
    }

    #[test]
    fn set_lengths_are_said_exactly() {
        assert_eq!(exact_length(Duration::from_secs(900)), "15 minutes");
        assert_eq!(exact_length(Duration::from_secs(86400)), "24 hours");
        assert_eq!(exact_length(Duration::from_secs(7 * 86400)), "7 days");
        assert_eq!(exact_length(Duration::from_secs(3600)), "1 hour");
        assert_eq!(exact_length(Duration::from_secs(90)), "90 seconds");
    }

    #[test]
    fn waits_round_up() {
        assert_eq!(wait(1), "a second");
        assert_eq!(wait(30), "30 seconds");
        assert_eq!(wait(60), "a minute");
        assert_eq!(wait(61), "2 minutes");
        assert_eq!(wait(3599), "60 minutes");
        assert_eq!(wait(3600), "an hour");
        assert_eq!(wait(3601), "61 minutes");
        assert_eq!(wait(5400), "2 hours");
    }

    #[test]
    fn exact_times_are_utc_calendar_dates() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(1_795_606_112), "2026-11-25T11:28:32Z");
        assert_eq!(exact_utc(951_782_400), "29 Feb 2000, 00:00 UTC");
        assert_eq!(iso_utc(-1), "1969-12-31T23:59:59Z");
    }
}
