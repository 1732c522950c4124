//! Calendar dates in UTC, proleptic Gregorian, without a date crate: the
//! server stamps notices and exports, the console shows and reads dates,
//! and both must agree to the day.

/// Days since 1970-01-01 → (year, month, day).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (m, d) = (i64::from(month), i64::from(day));
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// `YYYY-MM-DD` of unix seconds.
pub fn iso_date(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SSZ` of unix seconds.
pub fn iso_datetime(unix: i64) -> String {
    let secs = unix.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        iso_date(unix),
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// `YYYY-MM-DD` → (year, month, day), if it is a real calendar date.
pub fn parse_iso_date(s: &str) -> Option<(i64, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4) && digits(5..7) && digits(8..10)) {
        return None;
    }
    let y: i64 = s[0..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..10].parse().ok()?;
    ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then_some((y, m, d))
}

/// Whether `s` is a real `YYYY-MM-DD` date.
pub fn valid_iso_date(s: &str) -> bool {
    parse_iso_date(s).is_some()
}

/// `YYYY-MM-DD` → unix seconds at 00:00 UTC.
pub fn unix_from_iso_date(s: &str) -> Option<i64> {
    parse_iso_date(s).map(|(y, m, d)| days_from_civil(y, m, d) * 86_400)
}

/// Day of the week of a date, 0 = Sunday.
pub fn weekday(year: i64, month: u32, day: u32) -> usize {
    // 1970-01-01 was a Thursday.
    usize::try_from((days_from_civil(year, month, day) + 4).rem_euclid(7)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_known_days_are_right() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(1_750_000_000), "2025-06-15");
        assert_eq!(iso_datetime(1_750_000_000), "2025-06-15T15:06:40Z");
        assert_eq!(iso_date(951_782_400), "2000-02-29");
        assert_eq!(unix_from_iso_date("2000-02-29"), Some(951_782_400));
        assert_eq!(weekday(2019, 12, 13), 5, "a Friday");
        assert_eq!(weekday(1970, 1, 1), 4, "a Thursday");
        for days in [-800_000_i64, -1, 0, 1, 10_957, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn only_real_calendar_dates_are_valid() {
        assert!(valid_iso_date("2019-12-13"));
        assert!(valid_iso_date("2024-02-29"));
        assert!(!valid_iso_date("2023-02-29"));
        assert!(!valid_iso_date("2019-13-13"));
        assert!(!valid_iso_date("2019-04-31"));
        assert!(!valid_iso_date("13-12-2019"));
        assert!(!valid_iso_date("2019-12-1x"));
    }
}
