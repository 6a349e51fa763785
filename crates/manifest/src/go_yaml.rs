//! How go-yaml v2 — the emitter and resolver inside `sigs.k8s.io/yaml`, which both Helm's
//! `toYaml` and `kubectl kustomize` print through — reads a plain scalar back and orders map
//! keys. plumb's Helm and Kustomize engines each write YAML as that library does; what they
//! must decide alike (quote this string or not, which key comes first) is decided here once.

use std::cmp::Ordering;

/// A line break for the YAML emitter.
pub fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// v2's `is_printable`, which (reading UTF-8 bytes) excludes everything beyond the
/// Basic Multilingual Plane: an emoji is escaped as `\U0001F600`.
pub fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        && c != '\u{feff}'
}

/// Whether go-yaml v2 reads `s`, written plain, back as a string (not a bool, null,
/// number or timestamp).
pub fn resolves_as_string(s: &str) -> bool {
    let Some(first) = s.bytes().next() else {
        return false; // the empty string is null
    };
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => !matches!(
            s,
            "y" | "Y"
                | "yes"
                | "Yes"
                | "YES"
                | "true"
                | "True"
                | "TRUE"
                | "on"
                | "On"
                | "ON"
                | "n"
                | "N"
                | "no"
                | "No"
                | "NO"
                | "false"
                | "False"
                | "FALSE"
                | "off"
                | "Off"
                | "OFF"
                | "~"
                | "null"
                | "Null"
                | "NULL"
        ),
        b'.' => {
            !matches!(s, ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF")
                && s.parse::<f64>().is_err()
        }
        b'0'..=b'9' | b'+' | b'-' => {
            if matches!(s, "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF") {
                return false;
            }
            if looks_like_timestamp(s) {
                return false;
            }
            let plain = s.replace('_', "");
            if go_parse_int(&plain) || yaml_style_float(&plain) {
                return false;
            }
            let binary = plain
                .strip_prefix("0b")
                .or_else(|| plain.strip_prefix("-0b"));
            !binary.is_some_and(|digits| {
                !digits.is_empty() && digits.bytes().all(|b| b == b'0' || b == b'1')
            })
        }
        _ => true,
    }
}

/// `strconv.ParseInt(s, 0, 64)` or `ParseUint`: decimal, `0x`, `0o`, `0b`, or a leading
/// `0` for octal, with an optional sign.
fn go_parse_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() {
        return false;
    }
    let (digits, radix) = if let Some(rest) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (rest, 16)
    } else if let Some(rest) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (rest, 8)
    } else if let Some(rest) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (rest, 2)
    } else if body.len() > 1 && body.starts_with('0') {
        (&body[1..], 8)
    } else {
        (body, 10)
    };
    !digits.is_empty() && u64::from_str_radix(digits, radix).is_ok()
}

/// v2's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// v2 quotes sexagesimal numbers (`1:20`) so YAML 1.1 readers keep them strings.
pub fn is_base60_float(s: &str) -> bool {
    // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        let group = &s[start..i];
        let valid = match group.len() {
            1 => true,
            2 => group.as_bytes()[0] <= b'5',
            _ => false,
        };
        if !valid {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// v2 reads `YYYY-…` strings that parse as one of its timestamp layouts as timestamps.
fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    // YYYY-M-D, optionally followed by [Tt ]H:M:S[.frac][Z|±hh:mm].
    let rest = &s[5..];
    let (date, time) = match rest.find(['T', 't', ' ']) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let Some((month, day)) = date.split_once('-') else {
        return false;
    };
    let number = |part: &str, max: u32| {
        (1..=2).contains(&part.len())
            && part.bytes().all(|c| c.is_ascii_digit())
            && part.parse::<u32>().is_ok_and(|n| (1..=max).contains(&n))
    };
    if !number(month, 12) || !number(day, 31) {
        return false;
    }
    match time {
        None => true,
        Some(time) => {
            let clock = time.trim_end_matches('Z');
            let clock = clock.split(['+', '-']).next().unwrap_or(clock);
            let clock = clock.split('.').next().unwrap_or(clock);
            let parts: Vec<&str> = clock.split(':').collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| (1..=2).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_digit()))
        }
    }
}

/// go-yaml v2's order of map keys: letters by code point, a non-letter before a letter
/// (unless a digit precedes), and runs of digits by value.
pub fn natural_order(a: &str, b: &str) -> Ordering {
    if less(a, b) {
        Ordering::Less
    } else if less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut digits = false;
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            digits = ar[i].is_ascii_digit();
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return if digits { al } else { bl };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an
                .wrapping_mul(10)
                .wrapping_add(i64::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(i64::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

/// What go-yaml v2's `yaml_emitter_analyze_scalar` finds in a string (block context):
/// which styles may write it. A character that is not printable (`\r`, NEL, C1 controls,
/// beyond the Basic Multilingual Plane) allows only the double-quoted style.
pub struct ScalarAnalysis {
    /// libyaml's `multiline`.
    pub multiline: bool,
    /// libyaml's `block_plain_allowed`.
    pub block_plain_allowed: bool,
    /// libyaml's `single_quoted_allowed`.
    pub single_quoted_allowed: bool,
    /// libyaml's `block_allowed`.
    pub block_allowed: bool,
}

impl ScalarAnalysis {
    /// Analyses `s` as the emitter does before choosing its style.
    pub fn of(s: &str) -> ScalarAnalysis {
        if s.is_empty() {
            return ScalarAnalysis {
                multiline: false,
                block_plain_allowed: true,
                single_quoted_allowed: true,
                block_allowed: false,
            };
        }
        let chars: Vec<char> = s.chars().collect();
        let mut block_indicators = s.starts_with("---") || s.starts_with("...");
        let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
            (false, false, false, false);
        let (mut break_space, mut space_break, mut previous_space, mut previous_break) =
            (false, false, false, false);
        let mut line_breaks = false;
        let mut special_characters = false;
        let mut preceded_by_whitespace = true;
        for (i, &c) in chars.iter().enumerate() {
            let followed_by_whitespace = chars.get(i + 1).is_none_or(|&n| is_blankz(n));
            if i == 0 {
                match c {
                    '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\''
                    | '"' | '%' | '@' | '`' => block_indicators = true,
                    '?' | ':' if followed_by_whitespace => block_indicators = true,
                    '-' if followed_by_whitespace => block_indicators = true,
                    _ => {}
                }
            } else {
                match c {
                    ':' if followed_by_whitespace => block_indicators = true,
                    '#' if preceded_by_whitespace => block_indicators = true,
                    _ => {}
                }
            }
            if !is_printable(c) {
                special_characters = true;
            }
            if is_break(c) {
                line_breaks = true;
            }
            if c == ' ' {
                if i == 0 {
                    leading_space = true;
                }
                if i == chars.len() - 1 {
                    trailing_space = true;
                }
                if previous_break {
                    break_space = true;
                }
                previous_space = true;
                previous_break = false;
            } else if is_break(c) {
                if i == 0 {
                    leading_break = true;
                }
                if i == chars.len() - 1 {
                    trailing_break = true;
                }
                if previous_space {
                    space_break = true;
                }
                previous_space = false;
                previous_break = true;
            } else {
                previous_space = false;
                previous_break = false;
            }
            preceded_by_whitespace = is_blankz(c);
        }
        let mut analysis = ScalarAnalysis {
            multiline: line_breaks,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: true,
        };
        if leading_space || leading_break || trailing_space || trailing_break {
            analysis.block_plain_allowed = false;
        }
        if trailing_space {
            analysis.block_allowed = false;
        }
        if break_space {
            analysis.block_plain_allowed = false;
            analysis.single_quoted_allowed = false;
        }
        if space_break || special_characters {
            analysis.block_plain_allowed = false;
            analysis.single_quoted_allowed = false;
            analysis.block_allowed = false;
        }
        if line_breaks || block_indicators {
            analysis.block_plain_allowed = false;
        }
        analysis
    }
}

fn is_blankz(c: char) -> bool {
    c == ' ' || c == '\t' || is_break(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_numbers_and_timestamps_of_yaml_1_1_are_not_strings() {
        for s in [
            "",
            "~",
            "null",
            "yes",
            "Off",
            "y",
            "12",
            "0x1F",
            "0o17",
            "017",
            "-1_000",
            "1.5",
            ".5",
            "1e3",
            "+.inf",
            ".NaN",
            "2024-01-02",
            "2024-1-2T10:20:30Z",
        ] {
            assert!(!resolves_as_string(s), "{s:?}");
        }
        for s in [
            "yess",
            "1.2.3",
            "0x",
            "2024-13-01",
            "abc",
            "1e",
            "v1",
            "<<x",
            "08x",
        ] {
            assert!(resolves_as_string(s), "{s:?}");
        }
    }

    #[test]
    fn sexagesimal_numbers_are_recognised() {
        assert!(is_base60_float("1:20"));
        assert!(is_base60_float("-190:20:30.15"));
        assert!(!is_base60_float("1:60"));
        assert!(!is_base60_float("12"));
    }

    #[test]
    fn keys_sort_with_digit_runs_by_value() {
        let mut keys = vec!["a10", "a9", "b", "_x", "A", "a1b", "a1_"];
        keys.sort_by(|a, b| natural_order(a, b));
        // A non-letter sorts before a letter, except right after a digit, where the letter
        // comes first (`a1b` before `a1_`).
        assert_eq!(keys, ["_x", "A", "a1b", "a1_", "a9", "a10", "b"]);
    }

    #[test]
    fn a_carriage_return_allows_only_double_quotes() {
        let analysis = ScalarAnalysis::of("x\ry");
        assert!(analysis.multiline);
        assert!(!analysis.block_plain_allowed && !analysis.single_quoted_allowed);
        assert!(!analysis.block_allowed);
        let plain = ScalarAnalysis::of("a b");
        assert!(plain.block_plain_allowed && plain.single_quoted_allowed && plain.block_allowed);
        assert!(!ScalarAnalysis::of(" lead").block_plain_allowed);
        assert!(!ScalarAnalysis::of("- item").block_plain_allowed);
    }

    #[test]
    fn printable_stops_at_the_basic_multilingual_plane() {
        assert!(is_printable('é'));
        assert!(!is_printable('\u{1F600}'));
        assert!(!is_printable('\u{feff}'));
        assert!(is_break('\u{2028}'));
    }
}
