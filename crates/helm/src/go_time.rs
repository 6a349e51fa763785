//! Which timestamps Go's `time.Parse(time.RFC3339, …)` accepts: the `generated` field of
//! `Chart.lock` is a `time.Time`, and a lock whose timestamp Go cannot read fails the chart's
//! load (see `lock.rs`).
//!
//! Go parses by its layout, which is looser than RFC 3339 in places helm's loader shows:
//! the hour may have one digit, the fraction may follow a comma, an offset may be `+24:00`.

/// Whether Go's `time.Parse(time.RFC3339, text)` succeeds.
pub(crate) fn parses_as_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    let mut at = 0;
    let fixed = |width: usize, at: &mut usize| -> Option<u32> {
        let digits = b.get(*at..*at + width)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *at += width;
        Some(digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let literal =
        |c: u8, at: &mut usize| -> Option<()> { (b.get(*at) == Some(&c)).then(|| *at += 1) };
    let parsed = (|| {
        let year = fixed(4, &mut at)?;
        literal(b'-', &mut at)?;
        let month = fixed(2, &mut at)?;
        literal(b'-', &mut at)?;
        let day = fixed(2, &mut at)?;
        literal(b'T', &mut at)?;
        // Go's `15` takes one digit or two.
        let hour = match fixed(2, &mut at) {
            Some(h) => h,
            None => fixed(1, &mut at)?,
        };
        literal(b':', &mut at)?;
        let minute = fixed(2, &mut at)?;
        literal(b':', &mut at)?;
        let second = fixed(2, &mut at)?;
        if matches!(b.get(at), Some(b'.' | b',')) && b.get(at + 1).is_some_and(u8::is_ascii_digit) {
            at += 1;
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
        }
        match b.get(at) {
            Some(b'Z') => at += 1,
            Some(b'+' | b'-') => {
                at += 1;
                let offset_hour = fixed(2, &mut at)?;
                literal(b':', &mut at)?;
                let offset_minute = fixed(2, &mut at)?;
                // Go allows 24 hours and 60 minutes: "some people do write" them.
                if offset_hour > 24 || offset_minute > 60 {
                    return None;
                }
            }
            _ => return None,
        }
        let in_range = (1..=12).contains(&month)
            && (1..=days_in(year, month)).contains(&day)
            && hour < 24
            && minute < 60
            && second < 60;
        (in_range && at == b.len()).then_some(())
    })();
    parsed.is_some()
}

fn days_in(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::parses_as_rfc3339;

    /// What helm v4.3.2's loader accepts and refuses as a lock's `generated`.
    #[test]
    fn as_helm_reads_generated() {
        for ok in [
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00.123456789+01:00",
            "2024-01-01T00:00:00,5Z",
            "2024-01-01T00:00:00+24:00",
            "2024-02-29T00:00:00Z",
            "2024-01-01T1:00:00Z",
        ] {
            assert!(parses_as_rfc3339(ok), "{ok}");
        }
        for bad in [
            "2024-01-01",
            "",
            "2024-13-01T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01t00:00:00z",
            " 2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01 00:00:00",
            "2024-01-01T00:00:00Zx",
        ] {
            assert!(!parses_as_rfc3339(bad), "{bad}");
        }
    }
}
