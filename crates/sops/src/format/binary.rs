//! Binary files: any bytes, kept by sops as the single string value `data` of a JSON
//! document (so the encrypted file is JSON with `data` and `sops`).

use crate::tree::{Item, Value};

/// The one-entry tree sops builds for a binary file.
pub(crate) fn wrap(content: &[u8]) -> Vec<Item> {
    let value = match std::str::from_utf8(content) {
        Ok(text) => Value::Str(text.to_owned()),
        Err(_) => Value::Bytes(content.to_vec()),
    };
    vec![Item::entry("data", value)]
}

/// The bytes of `data`.
pub(crate) fn unwrap(items: &[Item]) -> Result<Vec<u8>, String> {
    items
        .iter()
        .find_map(|item| match item {
            Item::Entry { key, value } if key == "data" => Some(value),
            _ => None,
        })
        .ok_or_else(|| "the binary file has no `data` entry".to_owned())
        .and_then(|value| match value {
            Value::Str(text) => Ok(text.as_bytes().to_vec()),
            Value::Bytes(bytes) => Ok(bytes.clone()),
            _ => Err("the binary file's `data` is not a string".to_owned()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_any_bytes() {
        let bytes = [0u8, 0xff, b'a', 0x80];
        assert_eq!(unwrap(&wrap(&bytes)).unwrap(), bytes);
        assert_eq!(
            wrap(b"text"),
            vec![Item::entry("data", Value::Str("text".into()))]
        );
        assert!(unwrap(&[Item::entry("other", Value::Null)]).is_err());
        assert!(unwrap(&[Item::entry("data", Value::Int(1))]).is_err());
    }
}
