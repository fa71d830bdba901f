//! Simulated time: instants, civil dates and durations.
//!
//! The engine's clock is an [`Instant`], a count of seconds since 1970-01-01T00:00:00Z. It is
//! never read from the machine: scenarios say when things happen and the engine moves the
//! clock forward itself. Billing works on civil dates (`chrono::NaiveDate`, UTC); every
//! scheduled deadline is 00:00 UTC of a date, so the conversions between the two live here.

use chrono::{Datelike, NaiveDate};
use std::fmt;

const SECONDS_PER_DAY: i64 = 86_400;

/// A point on the simulated timeline, in whole seconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(i64);

impl Instant {
    pub const fn from_unix_seconds(seconds: i64) -> Self {
        Instant(seconds)
    }

    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    /// 00:00 UTC of `date`.
    pub fn at_midnight(date: NaiveDate) -> Self {
        Instant(days_from_epoch(date) * SECONDS_PER_DAY)
    }

    /// The UTC calendar date this instant falls on.
    pub fn date(self) -> NaiveDate {
        date_from_epoch_days(self.0.div_euclid(SECONDS_PER_DAY))
    }

    pub fn seconds_into_day(self) -> i64 {
        self.0.rem_euclid(SECONDS_PER_DAY)
    }

    pub fn checked_add(self, duration: Duration) -> Option<Self> {
        self.0.checked_add(duration.0).map(Instant)
    }

    /// RULES.md: "N days after an instant means 00:00 UTC of its date plus N days".
    pub fn midnight_days_after(self, days: i64) -> Option<Self> {
        let date = self.date().checked_add_signed(chrono::TimeDelta::try_days(days)?)?;
        Some(Instant::at_midnight(date))
    }
}

/// Days between 1970-01-01 and `date` (negative before it).
pub fn days_from_epoch(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - i64::from(EPOCH_DAYS_FROM_CE)
}

const EPOCH_DAYS_FROM_CE: i32 = 719_163;

fn date_from_epoch_days(days: i64) -> NaiveDate {
    let days_from_ce = days + i64::from(EPOCH_DAYS_FROM_CE);
    i32::try_from(days_from_ce).ok().and_then(NaiveDate::from_num_days_from_ce_opt).expect("instants are validated to lie within chrono's date range")
}

/// The number of calendar days from `from` to `to` (positive when `to` is later).
pub fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    days_from_epoch(to) - days_from_epoch(from)
}

pub fn add_days(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    date.checked_add_signed(chrono::TimeDelta::try_days(days)?)
}

/// The earliest instant scenarios may use. Far enough back for any real billing history,
/// near enough that every date computed from it stays inside chrono's range.
pub const EARLIEST: Instant = Instant(-2_208_988_800); // 1900-01-01T00:00:00Z
/// The latest instant scenarios may use (9000-01-01): leaves room for terms and retention
/// periods computed after it.
pub const LATEST: Instant = Instant(221_845_392_000);

impl fmt::Display for Instant {
    /// RFC 3339 in UTC with a `Z`, whole seconds: `2020-07-22T09:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let date = self.date();
        let seconds = self.seconds_into_day();
        write!(f, "{}T{:02}:{:02}:{:02}Z", format_date(date), seconds / 3600, (seconds / 60) % 60, seconds % 60)
    }
}

/// `YYYY-MM-DD`.
pub fn format_date(date: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

/// Parses `YYYY-MM-DD`, strictly (two-digit month and day, a real calendar date).
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes.iter().enumerate().all(|(index, byte)| index == 4 || index == 7 || byte.is_ascii_digit());
    if !shape_ok {
        return Err(format!("`{text}` is not a date; expected YYYY-MM-DD"));
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().unwrap_or(0);
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    NaiveDate::from_ymd_opt(year as i32, month, day).ok_or_else(|| format!("`{text}` is not a real calendar date"))
}

/// Parses an instant: RFC 3339 in UTC (`2020-07-22T09:00:00Z`, seconds optional, `+00:00`
/// accepted) or a bare date meaning 00:00Z of that date.
pub fn parse_instant(text: &str) -> Result<Instant, String> {
    let expected = "expected a date (2020-07-22) or a UTC instant (2020-07-22T09:00:00Z)";
    // A word (`yesterday`, `noon`) is no date at all; said so before it is split at its `t`.
    if !text.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("`{text}` is not a date or an instant; {expected}"));
    }
    if text.len() == 10 {
        let date = parse_date(text).map_err(|message| format!("{message}; {expected}"))?;
        return check_range(Instant::at_midnight(date), text);
    }
    let Some((date_text, time_text)) = text.split_once(['T', 't', ' ']) else {
        return Err(format!("`{text}` is not an instant; {expected}"));
    };
    if time_text.trim_end_matches(['Z', 'z']).rsplit_once('.').is_some_and(|(_, fraction)| fraction.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!("`{text}` has a fraction of a second; instants are whole seconds ({expected})"));
    }
    let date = parse_date(date_text).map_err(|message| format!("{message}; {expected}"))?;
    let time_text = time_text
        .strip_suffix(['Z', 'z'])
        .or_else(|| time_text.strip_suffix("+00:00"))
        .ok_or_else(|| format!("`{text}` has no UTC designator; all times are UTC, write it with a `Z` ({expected})"))?;
    let parts: Vec<&str> = time_text.split(':').collect();
    let valid_part = |part: &&str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
    if !(parts.len() == 2 || parts.len() == 3) || !parts.iter().all(valid_part) {
        return Err(format!("`{text}` has a malformed time of day; {expected}"));
    }
    let hour: i64 = parts[0].parse().unwrap_or(99);
    let minute: i64 = parts[1].parse().unwrap_or(99);
    let second: i64 = parts.get(2).map_or(0, |s| s.parse().unwrap_or(99));
    if hour > 23 || minute > 59 || second > 59 {
        return Err(format!("`{text}` has an impossible time of day; {expected}"));
    }
    let instant = Instant(Instant::at_midnight(date).0 + hour * 3600 + minute * 60 + second);
    check_range(instant, text)
}

fn check_range(instant: Instant, text: &str) -> Result<Instant, String> {
    if instant < EARLIEST || instant > LATEST {
        return Err(format!("`{text}` is outside the supported range {} to {}", format_date(EARLIEST.date()), format_date(LATEST.date())));
    }
    Ok(instant)
}

/// A non-negative length of simulated time, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(i64);

impl Duration {
    pub const ZERO: Duration = Duration(0);

    pub const fn from_seconds(seconds: i64) -> Self {
        Duration(seconds)
    }
    pub const fn from_hours(hours: i64) -> Self {
        Duration(hours * 3600)
    }
    pub const fn from_days(days: i64) -> Self {
        Duration(days * SECONDS_PER_DAY)
    }
    pub const fn seconds(self) -> i64 {
        self.0
    }

    /// Parses `30m`, `24h`, `13d`, `1d12h`, `2w`, `90s`: whole numbers with units in
    /// descending order, each unit at most once.
    pub fn parse(text: &str) -> Result<Duration, String> {
        let expected = "expected a duration such as 30m, 24h, 13d or 1d12h (units w, d, h, m, s)";
        if text.is_empty() {
            return Err(format!("empty duration; {expected}"));
        }
        if text == "0" {
            return Ok(Duration::ZERO); // `+0`: the format's own name for "same instant"
        }
        if text.starts_with('-') {
            return Err(format!("`{text}` is negative: durations are zero or more ({expected})"));
        }
        let units = [('w', 7 * SECONDS_PER_DAY), ('d', SECONDS_PER_DAY), ('h', 3600), ('m', 60), ('s', 1)];
        let mut total: i64 = 0;
        let mut next_unit = 0;
        let mut digits = String::new();
        for character in text.chars() {
            if character.is_ascii_digit() {
                digits.push(character);
                continue;
            }
            let Some(position) = units.iter().position(|(unit, _)| *unit == character) else {
                // The likely slips: a space before the unit, a capital, or the unit spelt out.
                let lowered = character.to_ascii_lowercase();
                let hint = if character.is_whitespace() {
                    "no space: the unit follows the number (+1d)".to_string()
                } else if lowered != character && units.iter().any(|(unit, _)| *unit == lowered) {
                    format!("units are lowercase: `{lowered}`")
                } else {
                    format!("unknown unit `{character}`")
                };
                return Err(format!("`{text}` is not a duration: {hint}; {expected}"));
            };
            if digits.is_empty() || position < next_unit {
                return Err(format!("`{text}` is not a duration; {expected}"));
            }
            let amount: i64 = digits.parse().map_err(|_| format!("`{text}` is too long a duration"))?;
            total = amount
                .checked_mul(units[position].1)
                .and_then(|seconds| total.checked_add(seconds))
                .ok_or_else(|| format!("`{text}` is too long a duration"))?;
            digits.clear();
            next_unit = position + 1;
        }
        if !digits.is_empty() {
            return Err(format!("`{text}` has a number without a unit; {expected}"));
        }
        if total > LATEST.0 - EARLIEST.0 {
            return Err(format!("`{text}` is too long a duration"));
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    /// A form that `parse` reads back, the way windows are spoken of: whole hours under a week
    /// in hours (`24h`, `72h`, `36h`), otherwise days, hours, minutes, seconds (`7d`, `14d`,
    /// `1h30m`, `0s`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        if self.0 < 7 * SECONDS_PER_DAY && self.0 % 3600 == 0 {
            return write!(f, "{}h", self.0 / 3600);
        }
        let mut rest = self.0;
        for (unit, size) in [("d", SECONDS_PER_DAY), ("h", 3600), ("m", 60), ("s", 1)] {
            if rest >= size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_through_text() {
        for text in ["2020-07-22T09:00:00Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2024-02-29T12:34:56Z"] {
            assert_eq!(parse_instant(text).unwrap().to_string(), text);
        }
        assert_eq!(parse_instant("2020-07-22").unwrap().to_string(), "2020-07-22T00:00:00Z");
        assert_eq!(parse_instant("2020-07-22T09:00Z").unwrap().to_string(), "2020-07-22T09:00:00Z");
    }

    #[test]
    fn impossible_instants_are_refused_with_a_reason() {
        assert!(parse_instant("2021-02-29").unwrap_err().contains("not a real calendar date"));
        assert!(parse_instant("2021-02-28T25:00:00Z").unwrap_err().contains("impossible time"));
        assert!(parse_instant("2021-02-28T10:00:00").unwrap_err().contains("UTC"));
        assert!(Duration::parse("1 day").unwrap_err().contains("no space: the unit follows the number"));
        assert!(Duration::parse("1D").unwrap_err().contains("units are lowercase: `d`"));
        assert!(parse_instant("yesterday").unwrap_err().starts_with("`yesterday` is not a date or an instant"));
        assert!(parse_instant("2021-02-28T10:00:00.5Z").unwrap_err().contains("fraction of a second"));
    }

    #[test]
    fn durations_parse_and_print() {
        assert_eq!(Duration::parse("1d12h").unwrap(), Duration::from_hours(36));
        assert_eq!(Duration::parse("14d").unwrap().to_string(), "14d");
        assert_eq!(Duration::parse("2w").unwrap().to_string(), "14d");
        assert_eq!(Duration::parse("90m").unwrap().to_string(), "1h30m");
        assert_eq!(Duration::parse("1d").unwrap().to_string(), "24h");
        assert_eq!(Duration::parse("1d12h").unwrap().to_string(), "36h");
        assert_eq!(Duration::parse("72h").unwrap().to_string(), "72h");
        assert_eq!(Duration::parse("168h").unwrap().to_string(), "7d");
        assert_eq!(Duration::parse("7d1h").unwrap().to_string(), "7d1h");
        assert_eq!(Duration::parse("1d30m").unwrap().to_string(), "1d30m");
        assert!(Duration::parse("12").is_err());
        assert_eq!(Duration::parse("0").unwrap(), Duration::ZERO);
        assert!(Duration::parse("1h1d").is_err());
        assert!(Duration::parse("99999999999999999999d").is_err());
    }

    #[test]
    fn days_after_an_instant_start_at_midnight() {
        let suspended = parse_instant("2021-05-10T12:00:00Z").unwrap();
        assert_eq!(suspended.midnight_days_after(90).unwrap().to_string(), "2021-08-08T00:00:00Z");
    }
}
