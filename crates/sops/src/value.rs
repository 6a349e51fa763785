//! One encrypted value: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`.
//!
//! sops encrypts each leaf on its own with AES-256-GCM under the file's 32-byte data key,
//! a fresh 32-byte IV, and the value's key path as additional authenticated data, then
//! writes ciphertext, IV and 16-byte tag as standard base64 and names the plaintext's
//! type so that decryption gives back an `int` as an int. The text forms of non-string
//! values follow Go's `strconv` (what sops is written in), because they are also what the
//! MAC hashes.

use aes_gcm::aead::consts::{U12, U32};
use aes_gcm::aead::{AeadCore, AeadInPlace, KeyInit, OsRng};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce, Tag};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::timestamp;
use super::tree::Value;

/// The file's data key.
pub(crate) type DataKey = Zeroizing<[u8; 32]>;

/// AES-256-GCM with sops' 32-byte nonce.
type SopsGcm = AesGcm<Aes256, U32>;
/// AES-256-GCM with the standard 12-byte nonce, for files whose IVs are that long.
type StdGcm = AesGcm<Aes256, U12>;

const PREFIX: &str = "ENC[AES256_GCM,";

/// Whether a string has the shape of an encrypted value (cheap; no decoding).
pub(crate) fn looks_encrypted(text: &str) -> bool {
    text.starts_with(PREFIX)
}

/// The decoded fields of an `ENC[…]` value.
#[derive(Debug, PartialEq)]
pub(crate) struct EncValue {
    pub(crate) data: Vec<u8>,
    pub(crate) iv: Vec<u8>,
    pub(crate) tag: Vec<u8>,
    pub(crate) kind: String,
}

impl EncValue {
    /// Parses `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`. The error says which part is
    /// wrong and never repeats the input.
    pub(crate) fn parse(text: &str) -> Result<EncValue, String> {
        let inner = text
            .strip_prefix("ENC[AES256_GCM,data:")
            .and_then(|rest| rest.strip_suffix(']'))
            .ok_or("it is not of the form ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]")?;
        let (data, rest) = inner
            .split_once(",iv:")
            .ok_or("its `iv:` field is missing")?;
        let (iv, rest) = rest
            .split_once(",tag:")
            .ok_or("its `tag:` field is missing")?;
        let (tag, kind) = rest
            .split_once(",type:")
            .ok_or("its `type:` field is missing")?;
        let decode = |field: &str, name: &str| {
            STANDARD
                .decode(field)
                .map_err(|_| format!("its `{name}` field is not valid base64"))
        };
        let value = EncValue {
            data: decode(data, "data")?,
            iv: decode(iv, "iv")?,
            tag: decode(tag, "tag")?,
            kind: kind.to_owned(),
        };
        if value.tag.len() != 16 {
            return Err(format!(
                "its tag has {} bytes instead of 16",
                value.tag.len()
            ));
        }
        if value.iv.len() != 32 && value.iv.len() != 12 {
            return Err(format!("its IV has {} bytes instead of 32", value.iv.len()));
        }
        if kind.is_empty() {
            return Err("its `type:` field is empty".to_owned());
        }
        Ok(value)
    }

    /// The `ENC[…]` text.
    pub(crate) fn format(&self) -> String {
        format!(
            "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{}]",
            STANDARD.encode(&self.data),
            STANDARD.encode(&self.iv),
            STANDARD.encode(&self.tag),
            self.kind
        )
    }

    /// Decrypts and authenticates. `None` when the key, the AAD or any byte is wrong.
    pub(crate) fn open(&self, key: &DataKey, aad: &str) -> Option<Zeroizing<Vec<u8>>> {
        let mut buffer = Zeroizing::new(self.data.clone());
        let tag = Tag::from_slice(&self.tag);
        let aad = aad.as_bytes();
        let opened = if self.iv.len() == 32 {
            SopsGcm::new(key.as_ref().into()).decrypt_in_place_detached(
                Nonce::<U32>::from_slice(&self.iv),
                aad,
                &mut buffer,
                tag,
            )
        } else {
            StdGcm::new(key.as_ref().into()).decrypt_in_place_detached(
                Nonce::<U12>::from_slice(&self.iv),
                aad,
                &mut buffer,
                tag,
            )
        };
        opened.ok().map(|()| buffer)
    }

    /// Encrypts `plaintext` with a fresh random IV.
    pub(crate) fn seal(
        key: &DataKey,
        plaintext: &[u8],
        aad: &str,
        kind: &str,
    ) -> Result<EncValue, String> {
        let iv = SopsGcm::generate_nonce(&mut OsRng);
        let mut data = plaintext.to_vec();
        let tag = SopsGcm::new(key.as_ref().into())
            .encrypt_in_place_detached(&iv, aad.as_bytes(), &mut data)
            .map_err(|_| "AES-GCM refused to encrypt a value".to_owned())?;
        Ok(EncValue {
            data,
            iv: iv.to_vec(),
            tag: tag.to_vec(),
            kind: kind.to_owned(),
        })
    }
}

/// The `type:` name sops gives a scalar.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Int(_) => "int",
        Value::Float(_) => "float",
        Value::Bool(_) => "bool",
        Value::Time(_) => "time",
        Value::Comment(_) => "comment",
        _ => "str",
    }
}

/// The bytes sops encrypts for a scalar, which are also the bytes its MAC hashes
/// (Go: `strconv.Itoa`, `FormatFloat(f, 'f', -1, 64)`, `True`/`False`, time as RFC 3339).
pub(crate) fn scalar_bytes(value: &Value) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(match value {
        Value::Str(text) | Value::Time(text) => text.as_bytes().to_vec(),
        Value::Bytes(bytes) => bytes.clone(),
        Value::Int(number) => number.to_string().into_bytes(),
        Value::Float(number) => go_float_text(*number).into_bytes(),
        Value::Bool(true) => b"True".to_vec(),
        Value::Bool(false) => b"False".to_vec(),
        Value::Null | Value::Map(_) | Value::Seq(_) | Value::Comment(_) => Vec::new(),
    })
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: shortest round-trip digits, never an
/// exponent. Rust's `Display` for `f64` makes the same choice; only the names of the
/// non-finite values differ.
pub(crate) fn go_float_text(number: f64) -> String {
    if number.is_nan() {
        "NaN".to_owned()
    } else if number.is_infinite() {
        if number > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        number.to_string()
    }
}

/// Turns decrypted bytes back into the value their `type:` names, as sops' Go does.
/// A `comment` is returned as `Value::Str`; the caller knows it decrypted a comment.
pub(crate) fn typed(kind: &str, bytes: &[u8]) -> Result<Value, String> {
    let text = || std::str::from_utf8(bytes).map_err(|_| format!("a `{kind}` value is not UTF-8"));
    match kind {
        "str" | "comment" | "bytes" => Ok(match std::str::from_utf8(bytes) {
            Ok(text) => Value::Str(text.to_owned()),
            Err(_) => Value::Bytes(bytes.to_vec()),
        }),
        "int" => go_atoi(text()?)
            .map(Value::Int)
            .ok_or_else(|| "an `int` value is not an integer".to_owned()),
        "float" => go_parse_float(text()?)
            .map(Value::Float)
            .ok_or_else(|| "a `float` value is not a number".to_owned()),
        "bool" => match text()? {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(Value::Bool(true)),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(Value::Bool(false)),
            _ => Err("a `bool` value is not a boolean".to_owned()),
        },
        "time" => timestamp::canonical_rfc3339(text()?)
            .map(Value::Time)
            .ok_or_else(|| "a `time` value is not an RFC 3339 timestamp".to_owned()),
        _ => Err(format!("unknown value type `{kind}`")),
    }
}

/// Go's `strconv.Atoi`: optional sign, decimal digits.
fn go_atoi(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Go's `strconv.ParseFloat(s, 64)` for the forms sops writes (and the usual others).
fn go_parse_float(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let lower = unsigned.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" || lower == "nan" {
        return text.parse().ok();
    }
    if unsigned.is_empty()
        || !unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    text.parse().ok().filter(|number: &f64| number.is_finite())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn key() -> DataKey {
        Zeroizing::new([7u8; 32])
    }

    #[test]
    fn seal_then_open_round_trips_with_the_same_aad_only() {
        let sealed = EncValue::seal(&key(), b"hunter2", "data:password:", "str").unwrap();
        assert_eq!(sealed.iv.len(), 32);
        assert_eq!(sealed.tag.len(), 16);
        let text = sealed.format();
        assert!(text.starts_with("ENC[AES256_GCM,data:"));
        assert!(text.ends_with(",type:str]"));
        let parsed = EncValue::parse(&text).unwrap();
        assert_eq!(parsed, sealed);
        assert_eq!(
            parsed.open(&key(), "data:password:").unwrap().as_slice(),
            b"hunter2"
        );
        assert!(parsed.open(&key(), "data:other:").is_none());
        assert!(
            parsed
                .open(&Zeroizing::new([8u8; 32]), "data:password:")
                .is_none()
        );
    }

    #[test]
    fn parse_rejects_truncated_and_bad_base64_without_echoing_input() {
        let good = EncValue::seal(&key(), b"secret-value", "a:", "str")
            .unwrap()
            .format();
        let truncated = &good[..good.len() - 12];
        let error = EncValue::parse(truncated).unwrap_err();
        assert!(!error.contains("secret"), "{error}");
        assert!(
            EncValue::parse("ENC[AES256_GCM,data:!!!,iv:AAAA,tag:AAAA,type:str]")
                .unwrap_err()
                .contains("`data` field is not valid base64")
        );
        let no_tag = good.replace(",tag:", ",tig:");
        assert!(EncValue::parse(&no_tag).unwrap_err().contains("`tag:`"));
        let short_iv = format!(
            "ENC[AES256_GCM,data:AA==,iv:{},tag:{},type:str]",
            STANDARD.encode([0u8; 8]),
            STANDARD.encode([0u8; 16])
        );
        assert!(
            EncValue::parse(&short_iv)
                .unwrap_err()
                .contains("IV has 8 bytes")
        );
        assert!(EncValue::parse("plain text").is_err());
    }

    /// The data key of a file written by the real `sops` 3.11 (recovered with
    /// `age --decrypt` from its `sops.age[0].enc`), and values from that file.
    pub(crate) fn sops_vector_key() -> DataKey {
        let hex = "d2536e1bfbcfe1767819d717c8ecd3994c65d71d11da035a3b1264aa54d935c3";
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        Zeroizing::new(key)
    }

    #[test]
    fn opens_values_written_by_real_sops() {
        let cases = [
            (
                "int:",
                "ENC[AES256_GCM,data:Pik=,iv:XeWq6FW3EpAISQJaGiTqumGrqzWYR3iGL7kNGWNyBCA=,tag:5PkX8bJTnqKXu9rYDwkn3A==,type:int]",
                Value::Int(42),
            ),
            (
                "float:",
                "ENC[AES256_GCM,data:Cusb,iv:wFwJ+mqdhVsjzhsgbhzJ+NVZ+gtqZcRoH5BuK/E4uXE=,tag:NGKeRu8Udw0UVGRtckANgg==,type:float]",
                Value::Float(1.5),
            ),
            (
                "bool:",
                "ENC[AES256_GCM,data:f0N5Uw==,iv:BDSCVZYSgp0ybeYTr2QIp6YpbCCOMprM+tPZa+qOt/g=,tag:VurXvNUnMknGUPd9oOs8AA==,type:bool]",
                Value::Bool(true),
            ),
            (
                "date:",
                "ENC[AES256_GCM,data:ibNCx47iCn7rI1b8tz5Wo4z+4zA=,iv:w3RFgHPEsXxLTBUh3Ve2FEtynw7BPs58aU7YA4BSJnQ=,tag:Rzk7MSHz8CbZZEUuFzegJw==,type:time]",
                Value::Time("2024-01-01T00:00:00Z".into()),
            ),
            (
                "str:",
                "ENC[AES256_GCM,data:SstFFs8=,iv:xPZeipW38WNZqr+r1EUQaRuRibGPuOFItEpkfPWbyKg=,tag:JW7XIQTo3h4lpV08ajvYiQ==,type:str]",
                Value::Str("hello".into()),
            ),
        ];
        for (aad, text, expected) in cases {
            let value = EncValue::parse(text).unwrap();
            let opened = value.open(&sops_vector_key(), aad).unwrap();
            assert_eq!(typed(&value.kind, &opened).unwrap(), expected, "{aad}");
            assert!(
                value.open(&sops_vector_key(), "elsewhere:").is_none(),
                "{aad}"
            );
        }
    }

    #[test]
    fn scalar_bytes_follow_go_formatting() {
        let text = |v: Value| String::from_utf8(scalar_bytes(&v).to_vec()).unwrap();
        assert_eq!(text(Value::Bool(true)), "True");
        assert_eq!(text(Value::Bool(false)), "False");
        assert_eq!(text(Value::Int(-12)), "-12");
        assert_eq!(text(Value::Float(1.5)), "1.5");
        assert_eq!(text(Value::Float(8080.0)), "8080");
        assert_eq!(text(Value::Float(1e21)), "1000000000000000000000");
        assert_eq!(
            text(Value::Float(1.2345678901234567e19)),
            "12345678901234567000"
        );
        assert_eq!(text(Value::Float(0.000001)), "0.000001");
        assert_eq!(text(Value::Float(f64::INFINITY)), "+Inf");
        assert_eq!(text(Value::Float(f64::NAN)), "NaN");
        assert_eq!(
            text(Value::Time("2024-01-01T00:00:00Z".into())),
            "2024-01-01T00:00:00Z"
        );
    }

    #[test]
    fn typed_parses_like_go() {
        assert_eq!(typed("int", b"493").unwrap(), Value::Int(493));
        assert!(typed("int", b"1.5").is_err());
        assert!(typed("int", b"").is_err());
        assert_eq!(typed("float", b"1000000").unwrap(), Value::Float(1e6));
        assert_eq!(
            typed("float", b"+Inf").unwrap(),
            Value::Float(f64::INFINITY)
        );
        assert!(typed("float", b"abc").is_err());
        assert_eq!(typed("bool", b"True").unwrap(), Value::Bool(true));
        assert_eq!(typed("bool", b"False").unwrap(), Value::Bool(false));
        assert!(typed("bool", b"yes").is_err());
        assert_eq!(typed("str", b"x").unwrap(), Value::Str("x".into()));
        assert_eq!(
            typed("str", &[0xff, 0x00]).unwrap(),
            Value::Bytes(vec![0xff, 0x00])
        );
        assert_eq!(
            typed("time", b"2024-01-01T10:00:00.500Z").unwrap(),
            Value::Time("2024-01-01T10:00:00.5Z".into())
        );
        assert!(
            typed("weird", b"x")
                .unwrap_err()
                .contains("unknown value type")
        );
    }
}
