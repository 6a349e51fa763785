//! The little DER and PEM that Sprig's certificate functions need: writing X.509
//! certificates and keys as Go's `crypto/x509` lays them out, and reading back the two
//! things a signer needs from its CA certificate (its subject and key identifier).

/// A DER element: tag, length, contents.
pub(crate) fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = contents.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(contents);
    out
}

/// A SEQUENCE of already encoded elements.
pub(crate) fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A non-negative INTEGER from big-endian bytes, in its minimal form.
pub(crate) fn uint(be: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = match be.iter().position(|b| *b != 0) {
        Some(at) => &be[at..],
        None => &[0],
    };
    let mut contents = Vec::with_capacity(trimmed.len() + 1);
    if trimmed[0] & 0x80 != 0 {
        contents.push(0);
    }
    contents.extend_from_slice(trimmed);
    tlv(0x02, &contents)
}

/// An OBJECT IDENTIFIER from its encoded arcs.
pub(crate) fn oid(encoded: &[u8]) -> Vec<u8> {
    tlv(0x06, encoded)
}

/// A BIT STRING of whole bytes.
pub(crate) fn bits(bytes: &[u8]) -> Vec<u8> {
    let mut contents = vec![0];
    contents.extend_from_slice(bytes);
    tlv(0x03, &contents)
}

/// A time as X.509 writes it: UTCTime for 1950–2049, GeneralizedTime otherwise, to the
/// second, in UTC.
pub(crate) fn time(unix: i64) -> Vec<u8> {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    let clock = format!(
        "{m:02}{d:02}{:02}{:02}{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if (1950..2050).contains(&y) {
        tlv(0x17, format!("{:02}{clock}", y % 100).as_bytes())
    } else {
        tlv(0x18, format!("{y:04}{clock}").as_bytes())
    }
}

/// The (year, month, day) of a day counted from 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `data` as a PEM block of `label`, base64 in lines of 64 as Go's `pem.Encode` writes.
pub(crate) fn pem(label: &str, data: &[u8]) -> String {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in text.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The label and bytes of the first PEM block in `text`, as Go's `pem.Decode` finds it.
pub(crate) fn unpem(text: &str) -> Option<(String, Vec<u8>)> {
    use base64::Engine as _;
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + 11..];
    let label_end = rest.find("-----")?;
    let label = rest[..label_end].to_owned();
    let body = &rest[label_end + 5..];
    let end = body.find(&format!("-----END {label}-----"))?;
    let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
    let data = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Some((label, data))
}

/// One element read: its tag, contents and whole encoding, and what follows it.
pub(crate) struct Read<'a> {
    pub tag: u8,
    pub contents: &'a [u8],
    pub whole: &'a [u8],
    pub rest: &'a [u8],
}

/// Reads the element at the start of `input`.
pub(crate) fn read(input: &[u8]) -> Option<Read<'_>> {
    let (&tag, after) = input.split_first()?;
    let (&first, mut after) = after.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || after.len() < count {
            return None;
        }
        let len = after[..count]
            .iter()
            .fold(0usize, |n, b| (n << 8) | usize::from(*b));
        after = &after[count..];
        len
    };
    if after.len() < len {
        return None;
    }
    let header = input.len() - after.len();
    Some(Read {
        tag,
        contents: &after[..len],
        whole: &input[..header + len],
        rest: &after[len..],
    })
}

/// The elements of a constructed element's contents.
pub(crate) fn children(mut contents: &[u8]) -> Option<Vec<Read<'_>>> {
    let mut out = Vec::new();
    while !contents.is_empty() {
        let element = read(contents)?;
        contents = element.rest;
        out.push(element);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_before_2050_and_generalized_after() {
        assert_eq!(time(0), tlv(0x17, b"700101000000Z"));
        assert_eq!(time(1_798_761_599), tlv(0x17, b"261231235959Z"));
        assert_eq!(time(2_524_608_000), tlv(0x18, b"20500101000000Z"));
        assert_eq!(civil(19_782), (2024, 2, 29));
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(uint(&[0, 0, 0x7f]), [2, 1, 0x7f]);
        assert_eq!(uint(&[0x80]), [2, 2, 0, 0x80]);
        assert_eq!(uint(&[0, 0]), [2, 1, 0]);
        let long = tlv(0x04, &[7; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let back = read(&long).unwrap();
        assert_eq!(
            (back.tag, back.contents.len(), back.rest.len()),
            (4, 300, 0)
        );
    }

    #[test]
    fn pem_round_trips_in_lines_of_64() {
        let data: Vec<u8> = (0..=255).collect();
        let text = pem("CERTIFICATE", &data);
        assert!(text.lines().all(|l| l.len() <= 64));
        assert_eq!(unpem(&text), Some(("CERTIFICATE".into(), data)));
    }
}
