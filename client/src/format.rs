//! Pure formatting helpers. No browser APIs here, so `cargo test -p
//! latchkey-client` can check them natively.

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `2019-12-13` → `Friday, December 13, 2019`. `None` if it is not a valid
/// ISO calendar date (a time part after the date is ignored).
pub fn long_date(iso: &str) -> Option<String> {
    let date = iso.get(..10)?;
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4
        || m.len() != 2
        || d.len() != 2
        || !date.bytes().all(|b| b.is_ascii_digit() || b == b'-')
    {
        return None;
    }
    let (year, month, day): (i32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1..=12).contains(&month)
        || day == 0
        || day > latchkey_shared::dates::days_in_month(i64::from(year), month)
    {
        return None;
    }
    Some(format!(
        "{}, {} {day}, {year}",
        WEEKDAYS[latchkey_shared::dates::weekday(i64::from(year), month, day)],
        MONTHS[month as usize - 1]
    ))
}

/// "Posted: Friday, December 13, 2019"; the raw text if it is not a date.
pub fn posted(iso: &str) -> String {
    format!(
        "Posted: {}",
        long_date(iso).unwrap_or_else(|| iso.to_owned())
    )
}

/// A `tel:` URI for a phone number as people write it:
/// `905-521-2100 ext. 43000` → `tel:905-521-2100;ext=43000`.
pub fn tel_href(phone: &str) -> String {
    let lower = phone.to_ascii_lowercase();
    let (main, ext) = match lower.find("ext").or_else(|| lower.find(" x")) {
        Some(i) => (&phone[..i], Some(&phone[i..])),
        None => (phone, None),
    };
    let number: String = main
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, '+' | '-'))
        .collect();
    let ext: String = ext
        .map(|e| e.chars().filter(char::is_ascii_digit).collect())
        .unwrap_or_default();
    if ext.is_empty() {
        format!("tel:{number}")
    } else {
        format!("tel:{number};ext={ext}")
    }
}

/// "2 minutes ago" style age of a timestamp, for "last synced".
#[allow(dead_code)] // shown by the offline banner (next issue)
pub fn age(now_ms: f64, then_ms: f64) -> String {
    let secs = ((now_ms - then_ms) / 1000.0).max(0.0) as u64;
    let (n, unit) = match secs {
        0..=59 => return "just now".to_owned(),
        60..=3599 => (secs / 60, "minute"),
        3600..=86_399 => (secs / 3600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_dates() {
        assert_eq!(
            long_date("2019-12-13").as_deref(),
            Some("Friday, December 13, 2019")
        );
        assert_eq!(
            long_date("2019-06-16").as_deref(),
            Some("Sunday, June 16, 2019")
        );
        assert_eq!(
            long_date("2019-06-15").as_deref(),
            Some("Saturday, June 15, 2019")
        );
        assert_eq!(
            long_date("2019-06-14").as_deref(),
            Some("Friday, June 14, 2019")
        );
        assert_eq!(posted("2019-12-13"), "Posted: Friday, December 13, 2019");
    }

    #[test]
    fn leap_years_and_edges() {
        assert_eq!(
            long_date("2000-02-29").as_deref(),
            Some("Tuesday, February 29, 2000")
        );
        assert_eq!(
            long_date("2024-02-29").as_deref(),
            Some("Thursday, February 29, 2024")
        );
        assert_eq!(long_date("1900-02-29"), None);
        assert_eq!(long_date("2023-02-29"), None);
        assert_eq!(
            long_date("2024-01-01").as_deref(),
            Some("Monday, January 1, 2024")
        );
        assert_eq!(
            long_date("1970-01-01T00:00:00Z").as_deref(),
            Some("Thursday, January 1, 1970")
        );
        assert_eq!(long_date("2024-13-01"), None);
        assert_eq!(long_date("2024-04-31"), None);
        assert_eq!(long_date("24-1-1"), None);
        assert_eq!(long_date(""), None);
        assert_eq!(long_date("2024-0a-01"), None);
        assert_eq!(posted("soon"), "Posted: soon");
    }

    #[test]
    fn phone_links() {
        assert_eq!(
            tel_href("905-521-2100 ext. 43000"),
            "tel:905-521-2100;ext=43000"
        );
        assert_eq!(tel_href("+1 905 521 2100"), "tel:+19055212100");
    }

    #[test]
    fn ages() {
        assert_eq!(age(10_000.0, 5_000.0), "just now");
        assert_eq!(age(120_000.0, 0.0), "2 minutes ago");
        assert_eq!(age(3_600_000.0, 0.0), "1 hour ago");
        assert_eq!(age(86_400_000.0 * 3.0, 0.0), "3 days ago");
    }
}
