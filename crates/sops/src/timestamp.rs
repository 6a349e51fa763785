//! The few date-time texts sops deals in, without a date-time crate.
//!
//! - `sops.lastmodified` is written as RFC 3339 in UTC to the second, and the MAC's
//!   additional data is that time as Go prints it back (`time.RFC3339`).
//! - A `type:time` value is Go's `time.Time` text form (RFC 3339 with trimmed nanoseconds).
//! - sops' YAML library reads an unquoted `2024-01-01` as a timestamp, so the MAC and the
//!   value's type depend on recognising the same spellings.

/// A parsed date-time. `offset` is `None` for a zone-less spelling (UTC).
#[derive(Debug, Clone, Copy, PartialEq)]
struct DateTime {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// Offset east of UTC, in minutes.
    offset: i32,
}

impl DateTime {
    fn valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
            && self.offset.abs() < 24 * 60
    }

    /// Go's `time.RFC3339Nano`, which is also `time.Time.MarshalText`.
    fn format_nano(&self) -> String {
        let mut text = self.format_seconds_part();
        if self.nanos != 0 {
            let fraction = format!("{:09}", self.nanos);
            text.push('.');
            text.push_str(fraction.trim_end_matches('0'));
        }
        text.push_str(&self.zone());
        text
    }

    /// Go's `time.RFC3339`.
    fn format_seconds(&self) -> String {
        let mut text = self.format_seconds_part();
        text.push_str(&self.zone());
        text
    }

    fn format_seconds_part(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    fn zone(&self) -> String {
        if self.offset == 0 {
            "Z".to_owned()
        } else {
            let sign = if self.offset < 0 { '-' } else { '+' };
            let minutes = self.offset.abs();
            format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
        }
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

/// A small cursor over ASCII text.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl Cursor<'_> {
    /// Between `min` and `max` digits.
    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        let count = self
            .rest
            .iter()
            .take(max)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if count < min {
            return None;
        }
        let (digits, rest) = self.rest.split_at(count);
        self.rest = rest;
        digits.iter().try_fold(0u32, |n, d| {
            n.checked_mul(10)?.checked_add(u32::from(d - b'0'))
        })
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.rest.first() == Some(&byte) {
            self.rest = &self.rest[1..];
            true
        } else {
            false
        }
    }

    /// `.` or `,` followed by digits: nanoseconds (digits past the ninth are dropped, as Go
    /// does).
    fn fraction(&mut self) -> Option<u32> {
        if !(self.rest.starts_with(b".") || self.rest.starts_with(b","))
            || !self.rest.get(1).is_some_and(u8::is_ascii_digit)
        {
            return Some(0);
        }
        self.rest = &self.rest[1..];
        let count = self.rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let (digits, rest) = self.rest.split_at(count);
        self.rest = rest;
        let mut nanos = 0u32;
        for position in 0..9 {
            nanos = nanos * 10 + digits.get(position).map_or(0, |d| u32::from(d - b'0'));
        }
        Some(nanos)
    }

    /// `Z` or `±hh:mm`.
    fn zone(&mut self) -> Option<i32> {
        if self.eat(b'Z') {
            return Some(0);
        }
        let sign = if self.eat(b'+') {
            1
        } else if self.eat(b'-') {
            -1
        } else {
            return None;
        };
        let hours = self.number(2, 2)?;
        if !self.eat(b':') {
            return None;
        }
        let minutes = self.number(2, 2)?;
        Some(sign * i32::try_from(hours * 60 + minutes).ok()?)
    }

    fn done(&self) -> bool {
        self.rest.is_empty()
    }
}

/// Parses Go's `time.RFC3339` layout (fixed-width fields, optional fraction, `Z` or
/// offset).
fn parse_rfc3339(text: &str) -> Option<DateTime> {
    let mut at = Cursor {
        rest: text.as_bytes(),
    };
    let year = at.number(4, 4)?;
    at.eat(b'-').then_some(())?;
    let month = at.number(2, 2)?;
    at.eat(b'-').then_some(())?;
    let day = at.number(2, 2)?;
    (at.eat(b'T') || at.eat(b't')).then_some(())?;
    let hour = at.number(2, 2)?;
    at.eat(b':').then_some(())?;
    let minute = at.number(2, 2)?;
    at.eat(b':').then_some(())?;
    let second = at.number(2, 2)?;
    let nanos = at.fraction()?;
    let offset = at.zone()?;
    let parsed = DateTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
        nanos,
        offset,
    };
    (at.done() && parsed.valid()).then_some(parsed)
}

/// A `type:time` value as Go's `UnmarshalText` then `MarshalText` gives it back.
pub(crate) fn canonical_rfc3339(text: &str) -> Option<String> {
    parse_rfc3339(text).map(|parsed| parsed.format_nano())
}

/// The MAC's additional data for a `lastmodified` value: the time as Go's `time.RFC3339`
/// prints it after parsing (fraction dropped, `Z` for a zero offset).
pub(crate) fn mac_aad(lastmodified: &str) -> Option<String> {
    parse_rfc3339(lastmodified).map(|parsed| parsed.format_seconds())
}

/// Whether an unquoted YAML scalar is a timestamp to sops' YAML library (go-yaml v3), and
/// if so its canonical text. The spellings are `2006-1-2`, `2006-1-2T15:4:5.999999999Z07:00`
/// (also with `t`) and `2006-1-2 15:4:5.999999999` (UTC), where single digits may stand for
/// month, day, hour, minute and second.
pub(crate) fn yaml_timestamp(text: &str) -> Option<String> {
    let mut at = Cursor {
        rest: text.as_bytes(),
    };
    let year = at.number(4, 4)?;
    at.eat(b'-').then_some(())?;
    let month = at.number(1, 2)?;
    at.eat(b'-').then_some(())?;
    let day = at.number(1, 2)?;
    let mut parsed = DateTime {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        offset: 0,
    };
    if !at.done() {
        let zoned = if at.eat(b'T') || at.eat(b't') {
            true
        } else if at.eat(b' ') {
            false
        } else {
            return None;
        };
        parsed.hour = at.number(1, 2)?;
        at.eat(b':').then_some(())?;
        parsed.minute = at.number(1, 2)?;
        at.eat(b':').then_some(())?;
        parsed.second = at.number(1, 2)?;
        parsed.nanos = at.fraction()?;
        if zoned {
            parsed.offset = at.zone()?;
        }
    }
    (at.done() && parsed.valid()).then(|| parsed.format_nano())
}

/// Now, as sops writes `lastmodified`: RFC 3339, UTC, whole seconds.
pub(crate) fn now_rfc3339() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    format_unix_seconds(seconds)
}

fn format_unix_seconds(seconds: u64) -> String {
    let days = seconds / 86_400;
    let of_day = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    let parsed = DateTime {
        year,
        month,
        day,
        hour: (of_day / 3600) as u32,
        minute: (of_day % 3600 / 60) as u32,
        second: (of_day % 60) as u32,
        nanos: 0,
        offset: 0,
    };
    parsed.format_seconds()
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`, for non-negative day counts).
fn civil_from_days(days: u64) -> (u32, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year as u32, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_unix_time_like_sops_lastmodified() {
        assert_eq!(format_unix_seconds(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_unix_seconds(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_unix_seconds(1_798_152_339), "2026-12-24T22:45:39Z");
        let now = now_rfc3339();
        assert!(parse_rfc3339(&now).is_some(), "{now}");
    }

    #[test]
    fn mac_aad_is_go_rfc3339_reprint() {
        assert_eq!(
            mac_aad("2026-11-22T22:45:39Z").unwrap(),
            "2026-11-22T22:45:39Z"
        );
        assert_eq!(
            mac_aad("2026-11-22T22:45:39.123Z").unwrap(),
            "2026-11-22T22:45:39Z"
        );
        assert_eq!(
            mac_aad("2026-11-22T22:45:39+00:00").unwrap(),
            "2026-11-22T22:45:39Z"
        );
        assert_eq!(
            mac_aad("2026-11-22T22:45:39+02:00").unwrap(),
            "2026-11-22T22:45:39+02:00"
        );
        assert!(mac_aad("2026-11-22").is_none());
        assert!(mac_aad("2026-02-30T00:00:00Z").is_none());
    }

    #[test]
    fn canonical_time_trims_nanoseconds() {
        assert_eq!(
            canonical_rfc3339("2024-01-01T10:00:00.120000Z").unwrap(),
            "2024-01-01T10:00:00.12Z"
        );
        assert_eq!(
            canonical_rfc3339("2024-01-01T10:00:00Z").unwrap(),
            "2024-01-01T10:00:00Z"
        );
        assert!(canonical_rfc3339("yesterday").is_none());
    }

    #[test]
    fn yaml_timestamps_follow_go_yaml_spellings() {
        assert_eq!(
            yaml_timestamp("2024-01-01").unwrap(),
            "2024-01-01T00:00:00Z"
        );
        assert_eq!(yaml_timestamp("2024-1-2").unwrap(), "2024-01-02T00:00:00Z");
        assert_eq!(
            yaml_timestamp("2024-01-01T10:00:00Z").unwrap(),
            "2024-01-01T10:00:00Z"
        );
        assert_eq!(
            yaml_timestamp("2024-01-01t1:2:3.5+01:00").unwrap(),
            "2024-01-01T01:02:03.5+01:00"
        );
        assert_eq!(
            yaml_timestamp("2024-01-01 10:00:00").unwrap(),
            "2024-01-01T10:00:00Z"
        );
        for not_a_time in [
            "2024",
            "24-01-01",
            "2024-01-01 10:00:00Z",
            "2024-13-01",
            "v2024-01-01",
        ] {
            assert!(yaml_timestamp(not_a_time).is_none(), "{not_a_time}");
        }
    }
}
