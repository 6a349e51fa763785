//! Encodings and digests: base64/32, sha1/sha256/adler32, JSON and YAML both ways, URLs.

use std::collections::BTreeMap;

use base64::Engine;
use sha2::Digest;

use super::Param::{Any, Map, Str};
use super::json::to_json;
use super::yaml::{from_yaml_str, to_yaml, to_yaml_pretty};
use super::{Table, one, s};
use crate::value::{Value, as_go_json};

pub(super) fn register(t: &mut Table) {
    t.add("b64enc", &[Str], |_, a| {
        Ok(Value::str(
            base64::engine::general_purpose::STANDARD.encode(s(&a[0])),
        ))
    });
    t.add("b64dec", &[Str], |_, a| {
        Ok(Value::str(
            match base64::engine::general_purpose::STANDARD.decode(s(&a[0])) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) => e.to_string(),
            },
        ))
    });
    t.add("b32enc", &[Str], |_, a| {
        Ok(Value::str(base32_encode(s(&a[0]).as_bytes())))
    });
    t.add("b32dec", &[Str], |_, a| {
        Ok(Value::str(match base32_decode(s(&a[0])) {
            Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            None => "illegal base32 data".to_string(),
        }))
    });
    t.add("sha256sum", &[Str], |_, a| {
        Ok(Value::str(hex(&sha2::Sha256::digest(s(&a[0]).as_bytes()))))
    });
    t.add("sha512sum", &[Str], |_, a| {
        Ok(Value::str(hex(&sha2::Sha512::digest(s(&a[0]).as_bytes()))))
    });
    t.add("sha1sum", &[Str], |_, a| {
        Ok(Value::str(hex(&sha1::Sha1::digest(s(&a[0]).as_bytes()))))
    });
    t.add("adler32sum", &[Str], |_, a| {
        Ok(Value::str(adler32(s(&a[0]).as_bytes()).to_string()))
    });
    t.add("toYaml", &[Any], |_, a| {
        Ok(Value::str(to_yaml(&one(a)).unwrap_or_default()))
    });
    t.add("mustToYaml", &[Any], |_, a| {
        Ok(Value::str(to_yaml(&one(a))?))
    });
    t.add("toYamlPretty", &[Any], |_, a| {
        Ok(Value::str(to_yaml_pretty(&one(a)).unwrap_or_default()))
    });
    t.add("fromYaml", &[Str], |_, a| {
        Ok(match from_yaml_str(s(&a[0])) {
            Ok(v @ Value::Map(_)) => v,
            Ok(Value::Nil) => Value::empty_map(),
            Ok(other) => error_map(format!("cannot unmarshal {} into map", other.type_name())),
            Err(e) => error_map(e),
        })
    });
    t.add("fromYamlArray", &[Str], |_, a| {
        Ok(match from_yaml_str(s(&a[0])) {
            Ok(v @ Value::List(_)) => v,
            Ok(Value::Nil) => Value::list(Vec::new()),
            Ok(other) => Value::list(vec![Value::str(format!(
                "cannot unmarshal {} into array",
                other.type_name()
            ))]),
            Err(e) => Value::list(vec![Value::str(e)]),
        })
    });
    for (name, raw, pretty) in [
        ("toJson", false, false),
        ("mustToJson", false, false),
        ("toRawJson", true, false),
        ("mustToRawJson", true, false),
    ] {
        let f: super::Body = match (raw, pretty) {
            (true, _) => |_, a| Ok(Value::str(to_json(&one(a), true, None))),
            _ => |_, a| Ok(Value::str(to_json(&one(a), false, None))),
        };
        t.add(name, &[Any], f);
    }
    for name in ["toPrettyJson", "mustToPrettyJson"] {
        t.add(name, &[Any], |_, a| {
            Ok(Value::str(to_json(&one(a), false, Some("  "))))
        });
    }
    t.add("fromJson", &[Str], |_, a| {
        Ok(match serde_json::from_str::<serde_json::Value>(s(&a[0])) {
            Ok(json @ serde_json::Value::Object(_)) => Value::from_json(&as_go_json(json)),
            Ok(_) => error_map("json: cannot unmarshal into a map".into()),
            Err(e) => error_map(e.to_string()),
        })
    });
    t.add("mustFromJson", &[Str], |_, a| {
        serde_json::from_str::<serde_json::Value>(s(&a[0]))
            .map(|j| Value::from_json(&as_go_json(j)))
            .map_err(|e| e.to_string())
    });
    t.add("fromJsonArray", &[Str], |_, a| {
        Ok(match serde_json::from_str::<serde_json::Value>(s(&a[0])) {
            Ok(json @ serde_json::Value::Array(_)) => Value::from_json(&as_go_json(json)),
            Ok(_) => Value::list(vec![Value::str("json: cannot unmarshal into an array")]),
            Err(e) => Value::list(vec![Value::str(e.to_string())]),
        })
    });
    t.add("urlParse", &[Str], |_, a| Ok(url_parse(s(&a[0]))));
    t.add("urlJoin", &[Map], |_, a| Ok(Value::str(url_join(&a[0]))));
}

/// Helm's `fromYaml`/`fromJson` do not fail: the error is the map's `Error` entry.
fn error_map(message: String) -> Value {
    let mut map = BTreeMap::new();
    map.insert("Error".to_string(), Value::str(message));
    Value::map(map)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let bits = buf.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for n in 0..8 {
            if n < chars {
                out.push(BASE32[((bits >> (35 - n * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let clean: Vec<u8> = text
        .bytes()
        .filter(|b| *b != b'\n' && *b != b'\r')
        .collect();
    if !clean.len().is_multiple_of(8) {
        return None;
    }
    let mut out = Vec::new();
    for chunk in clean.chunks(8) {
        let mut bits = 0u64;
        let mut count = 0;
        for &c in chunk {
            if c == b'=' {
                bits <<= 5;
                continue;
            }
            let v = BASE32.iter().position(|b| *b == c)? as u64;
            bits = (bits << 5) | v;
            count += 1;
        }
        let bytes = match count {
            2 => 1,
            4 => 2,
            5 => 3,
            7 => 4,
            8 => 5,
            _ => return None,
        };
        for n in 0..bytes {
            out.push(((bits >> (32 - n * 8)) & 0xff) as u8);
        }
    }
    Some(out)
}

/// Sprig's `urlParse`: scheme, host, path, query, opaque, fragment, userinfo.
fn url_parse(raw: &str) -> Value {
    let mut map = BTreeMap::new();
    let (rest, fragment) = raw.split_once('#').unwrap_or((raw, ""));
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (scheme, rest) = match rest.split_once(':') {
        Some((s, r))
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (s, r)
        }
        _ => ("", rest),
    };
    let (userinfo, host, path, opaque) = if let Some(authority) = rest.strip_prefix("//") {
        let (authority, path) = match authority.find('/') {
            Some(i) => (&authority[..i], &authority[i..]),
            None => (authority, ""),
        };
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((u, h)) => (u, h),
            None => ("", authority),
        };
        (userinfo, host, path, "")
    } else if !scheme.is_empty() && !rest.starts_with('/') {
        ("", "", "", rest)
    } else {
        ("", "", rest, "")
    };
    for (k, v) in [
        ("scheme", scheme),
        ("host", host),
        ("hostname", host.rsplit_once(':').map_or(host, |(h, _)| h)),
        ("path", path),
        ("query", query),
        ("opaque", opaque),
        ("fragment", fragment),
        ("userinfo", userinfo),
    ] {
        map.insert(k.to_string(), Value::str(v));
    }
    Value::map(map)
}

fn url_join(parts: &Value) -> String {
    let get = |k: &str| parts.get(k).as_str().unwrap_or("").to_string();
    let mut out = String::new();
    let scheme = get("scheme");
    if !scheme.is_empty() {
        out.push_str(&scheme);
        out.push(':');
    }
    let opaque = get("opaque");
    if !opaque.is_empty() {
        out.push_str(&opaque);
    } else {
        let host = get("host");
        if !host.is_empty() || !scheme.is_empty() {
            out.push_str("//");
            let userinfo = get("userinfo");
            if !userinfo.is_empty() {
                out.push_str(&userinfo);
                out.push('@');
            }
            out.push_str(&host);
        }
        out.push_str(&get("path"));
    }
    let query = get("query");
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query);
    }
    let fragment = get("fragment");
    if !fragment.is_empty() {
        out.push('#');
        out.push_str(&fragment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_encodings() {
        assert_eq!(base32_encode(b"hello"), "NBSWY3DP");
        assert_eq!(base32_encode(b"hi"), "NBUQ====");
        assert_eq!(base32_decode("NBUQ====").unwrap(), b"hi");
        assert_eq!(adler32(b"Wikipedia"), 300_286_872);
        assert_eq!(
            hex(&sha1::Sha1::digest(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
