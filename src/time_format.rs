//! Times as people read them: "2 minutes ago", with the exact time (UTC) for a tooltip. Shared by the
//! server's HTML and the hydrated page, which must render the same text.

/// "just now", "5 minutes ago", "3 hours ago", "yesterday", "12 days ago".
pub fn relative(now: i64, then: i64) -> String {
    let seconds = now.saturating_sub(then).max(0);
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    match seconds {
        0..=44 => "just now".into(),
        45..=89 => "1 minute ago".into(),
        90..=2699 => plural((seconds + 30) / 60, "minute"),
        2700..=5399 => "1 hour ago".into(),
        5400..=86399 => plural((seconds + 1800) / 3600, "hour"),
        86400..=172799 => "yesterday".into(),
        _ => plural(seconds / 86400, "day"),
    }
}

/// "25 Nov 2026, 11:48 UTC".
pub fn exact_utc(unix: i64) -> String {
    let (year, month, day, hour, minute, _) = civil(unix);
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!("{day} {} {year}, {hour:02}:{minute:02} UTC", MONTHS[(month - 1) as usize])
}

/// "2026-11-25T11:48:32Z", for `<time datetime>`.
pub fn iso_utc(unix: i64) -> String {
    let (year, month, day, hour, minute, second) = civil(unix);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// Unix seconds to (year, month, day, hour, minute, second) in UTC, by Howard Hinnant's `civil_from_days`.
fn civil(unix: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = unix.div_euclid(86400);
    let secs = unix.rem_euclid(86400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, secs / 3600, secs / 60 % 60, secs % 60)
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
    fn exact_times_are_utc_calendar_dates() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(1_795_606_112), "2026-11-25T11:28:32Z");
        assert_eq!(exact_utc(951_782_400), "29 Feb 2000, 00:00 UTC");
        assert_eq!(iso_utc(-1), "1969-12-31T23:59:59Z");
    }
}
