//! Encrypting and decrypting a whole tree, computing the MAC on the way.
//!
//! Each leaf is decided by the file's rule from its key path. Encrypted leaves become
//! `ENC[…]` with the path as additional data; empty strings stay empty (sops does not
//! encrypt them). Comments are encrypted like values but are not part of the MAC, and a
//! comment that does not decrypt is kept as it is (sops does the same, for files from
//! versions that left comments in clear).

use super::SopsError;
use super::mac::Mac;
use super::rules::Rule;
use super::tree::{Leaf, Tree, Value, path_aad, path_display, walk};
use super::value::{DataKey, EncValue, kind_of, scalar_bytes, typed};

/// Encrypts every leaf the rule selects and returns the MAC (upper-case hex).
pub(crate) fn encrypt_tree(
    tree: &mut Tree,
    key: &DataKey,
    rule: &Rule,
    mac_only_encrypted: bool,
) -> Result<String, SopsError> {
    let mut mac = Mac::new(mac_only_encrypted);
    for document in &mut tree.documents {
        walk(document, &mut Vec::new(), &mut |leaf, path| {
            let encrypted = rule.encrypts(path, None);
            let seal = |bytes: &[u8], kind: &str| {
                EncValue::seal(key, bytes, &path_aad(path), kind)
                    .map(|sealed| sealed.format())
                    .map_err(SopsError::encrypt)
            };
            match leaf {
                Leaf::Value(value) => {
                    let bytes = scalar_bytes(value);
                    if !matches!(value, Value::Comment(_)) {
                        mac.add(&bytes, encrypted);
                    }
                    if encrypted && !bytes.is_empty() {
                        *value = Value::Str(seal(&bytes, kind_of(value))?);
                    } else if encrypted {
                        // An empty string or byte string: sops leaves it empty.
                        *value = Value::Str(String::new());
                    }
                }
                Leaf::Comment(text) => {
                    if encrypted && !text.is_empty() {
                        *text = seal(text.as_bytes(), "comment")?;
                    }
                }
            }
            Ok(())
        })?;
    }
    Ok(mac.finish())
}

/// Decrypts every leaf the rule says is encrypted and returns the MAC of the plaintext.
pub(crate) fn decrypt_tree(
    tree: &mut Tree,
    key: &DataKey,
    rule: &Rule,
    mac_only_encrypted: bool,
) -> Result<String, SopsError> {
    let mut mac = Mac::new(mac_only_encrypted);
    for document in &mut tree.documents {
        walk(document, &mut Vec::new(), &mut |leaf, path| {
            match leaf {
                Leaf::Value(value) => {
                    let current = match value {
                        Value::Str(text) => Some(text.as_str()),
                        _ => None,
                    };
                    let encrypted = rule.encrypts(path, current);
                    if encrypted {
                        *value = decrypt_value(value, key, path)?;
                    }
                    if !matches!(value, Value::Comment(_)) {
                        mac.add(&scalar_bytes(value), encrypted);
                    }
                }
                Leaf::Comment(text) => {
                    if rule.encrypts(path, Some(text)) {
                        let opened = EncValue::parse(text)
                            .ok()
                            .and_then(|enc| enc.open(key, &path_aad(path)));
                        if let Some(opened) = opened {
                            *text = String::from_utf8_lossy(&opened).into_owned();
                        }
                    }
                }
            }
            Ok(())
        })?;
    }
    Ok(mac.finish())
}

fn decrypt_value(value: &Value, key: &DataKey, path: &[String]) -> Result<Value, SopsError> {
    let at = || path_display(path);
    let text = match value {
        Value::Str(text) => text,
        _ => {
            return Err(SopsError::malformed(format!(
                "the value at `{}` should be encrypted but is not an ENC[AES256_GCM,…] string",
                at()
            )));
        }
    };
    if text.is_empty() {
        return Ok(Value::Str(String::new()));
    }
    let enc = EncValue::parse(text).map_err(|problem| {
        SopsError::malformed(format!(
            "the encrypted value at `{}` is broken: {problem}",
            at()
        ))
    })?;
    let opened = enc
        .open(key, &path_aad(path))
        .ok_or_else(|| SopsError::MacMismatch { path: Some(at()) })?;
    if enc.kind == "comment" {
        return Ok(Value::Comment(
            String::from_utf8_lossy(&opened).into_owned(),
        ));
    }
    typed(&enc.kind, &opened).map_err(|problem| {
        SopsError::malformed(format!(
            "the encrypted value at `{}` is broken: {problem}",
            at()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::new_data_key;
    use crate::rules::RuleSettings;
    use crate::tree::Item;

    fn sample() -> Tree {
        Tree::new(vec![vec![
            Item::Comment(" note".into()),
            Item::entry("password", Value::Str("hunter2".into())),
            Item::entry("empty", Value::Str(String::new())),
            Item::entry("port", Value::Int(5432)),
            Item::entry("ratio", Value::Float(0.25)),
            Item::entry("on", Value::Bool(false)),
            Item::entry("nothing", Value::Null),
            Item::entry("user_unencrypted", Value::Str("admin".into())),
            Item::entry(
                "list",
                Value::Seq(vec![Value::Str("a".into()), Value::Int(1)]),
            ),
        ]])
    }

    fn default_rule() -> Rule {
        RuleSettings::default().rule(SopsError::malformed).unwrap()
    }

    #[test]
    fn encrypt_then_decrypt_restores_values_and_mac() {
        let key = new_data_key();
        let mut tree = sample();
        let sealed_mac = encrypt_tree(&mut tree, &key, &default_rule(), false).unwrap();
        let items = &tree.documents[0];
        let value = |name: &str| {
            items.iter().find_map(|item| match item {
                Item::Entry { key, value } if key == name => Some(value.clone()),
                _ => None,
            })
        };
        let Some(Value::Str(password)) = value("password") else {
            panic!()
        };
        assert!(password.starts_with("ENC[AES256_GCM,") && password.ends_with(",type:str]"));
        let Some(Value::Str(port)) = value("port") else {
            panic!()
        };
        assert!(port.ends_with(",type:int]"));
        assert_eq!(value("empty"), Some(Value::Str(String::new())));
        assert_eq!(value("nothing"), Some(Value::Null));
        assert_eq!(value("user_unencrypted"), Some(Value::Str("admin".into())));
        let Item::Comment(comment) = &items[0] else {
            panic!()
        };
        assert!(comment.ends_with(",type:comment]"));

        let opened_mac = decrypt_tree(&mut tree, &key, &default_rule(), false).unwrap();
        assert_eq!(opened_mac, sealed_mac);
        assert_eq!(tree.documents, sample().documents);
    }

    #[test]
    fn moved_values_fail_authentication_at_their_path() {
        let key = new_data_key();
        let mut tree = sample();
        encrypt_tree(&mut tree, &key, &default_rule(), false).unwrap();
        // Swap the encrypted `password` into `port`: the AAD (path) no longer matches.
        let password = match &tree.documents[0][1] {
            Item::Entry { value, .. } => value.clone(),
            Item::Comment(_) => unreachable!(),
        };
        if let Item::Entry { value, .. } = &mut tree.documents[0][3] {
            *value = password;
        }
        match decrypt_tree(&mut tree, &key, &default_rule(), false) {
            Err(SopsError::MacMismatch { path }) => assert_eq!(path.as_deref(), Some("port")),
            other => panic!("expected MacMismatch, got {other:?}"),
        }
    }

    #[test]
    fn clear_value_where_encryption_is_expected_is_malformed() {
        let key = new_data_key();
        let mut tree = sample();
        let error = decrypt_tree(&mut tree, &key, &default_rule(), false).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("`password`"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn mac_only_encrypted_ignores_clear_values() {
        let key = new_data_key();
        let mut one = sample();
        let mac_one = encrypt_tree(&mut one, &key, &default_rule(), true).unwrap();
        let mut two = sample();
        if let Item::Entry { value, .. } = &mut two.documents[0][7] {
            *value = Value::Str("someone else".into());
        }
        let mac_two = encrypt_tree(&mut two, &key, &default_rule(), true).unwrap();
        assert_eq!(mac_one, mac_two);
        let mut three = sample();
        assert_ne!(
            encrypt_tree(&mut three, &key, &default_rule(), false).unwrap(),
            mac_one
        );
    }
}
