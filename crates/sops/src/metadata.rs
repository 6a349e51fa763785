//! The `sops` section of an encrypted file: who can open the data key, the MAC, the rule.
//!
//! The same section appears as a YAML/JSON mapping under the top-level `sops` key and, in
//! dotenv files, flattened into `sops_*` lines; both are read here from a [`Value`] tree
//! (dotenv unflattens first). Key kinds other than age are recognised so that a file held
//! only by PGP or a cloud KMS gets a clear "unsupported" answer rather than "no key".

use super::SopsError;
use super::rules::RuleSettings;
use super::tree::{Item, Value};

/// The version plumb writes into files it encrypts: the sops release whose format it
/// follows.
pub(crate) const SOPS_VERSION: &str = "3.11.0";

/// Key kinds sops knows besides age (their metadata keys).
const OTHER_KEY_KINDS: [&str; 5] = ["pgp", "kms", "gcp_kms", "azure_kv", "hc_vault"];

/// The data key encrypted for one age recipient.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AgeStanza {
    /// The recipient (`age1…`), public.
    pub(crate) recipient: String,
    /// The armored age file holding the data key.
    pub(crate) enc: String,
}

/// A key group: every key in it holds the same data key (or Shamir share).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct KeyGroup {
    pub(crate) age: Vec<AgeStanza>,
    /// The other key kinds present, with how many keys of each.
    pub(crate) others: Vec<(&'static str, usize)>,
}

/// The parsed `sops` section.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Metadata {
    pub(crate) key_groups: Vec<KeyGroup>,
    pub(crate) shamir_threshold: Option<i64>,
    pub(crate) lastmodified: String,
    pub(crate) mac: String,
    pub(crate) rules: RuleSettings,
    pub(crate) mac_only_encrypted: bool,
    pub(crate) version: String,
}

fn get<'a>(items: &'a [Item], name: &str) -> Option<&'a Value> {
    items.iter().find_map(|item| match item {
        Item::Entry { key, value } if key == name => Some(value),
        _ => None,
    })
}

fn malformed(detail: impl std::fmt::Display) -> SopsError {
    SopsError::malformed(format!("in its `sops` metadata, {detail}"))
}

/// A string field; absent or `null` is `None`.
fn text(items: &[Item], name: &str) -> Result<Option<String>, SopsError> {
    match get(items, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Str(text) | Value::Time(text)) => Ok(Some(text.clone())),
        Some(_) => Err(malformed(format_args!("`{name}` is not a string"))),
    }
}

fn list<'a>(items: &'a [Item], name: &str) -> Result<&'a [Value], SopsError> {
    match get(items, name) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Seq(values)) => Ok(values),
        Some(_) => Err(malformed(format_args!("`{name}` is not a list"))),
    }
}

fn key_group(items: &[Item]) -> Result<KeyGroup, SopsError> {
    let mut group = KeyGroup::default();
    for entry in list(items, "age")? {
        let Value::Map(fields) = entry else {
            return Err(malformed("an `age` entry is not a mapping"));
        };
        let recipient = text(fields, "recipient")?
            .ok_or_else(|| malformed("an `age` entry has no `recipient`"))?;
        let enc = text(fields, "enc")?.ok_or_else(|| malformed("an `age` entry has no `enc`"))?;
        group.age.push(AgeStanza { recipient, enc });
    }
    for kind in OTHER_KEY_KINDS {
        let count = list(items, kind)?.len();
        if count > 0 {
            group.others.push((kind, count));
        }
    }
    Ok(group)
}

impl KeyGroup {
    fn is_empty(&self) -> bool {
        self.age.is_empty() && self.others.is_empty()
    }
}

impl Metadata {
    /// Reads the value of the top-level `sops` key.
    pub(crate) fn from_value(value: &Value) -> Result<Metadata, SopsError> {
        let Value::Map(items) = value else {
            return Err(SopsError::malformed("its `sops` metadata is not a mapping"));
        };
        let top = key_group(items)?;
        let key_groups = if !top.is_empty() {
            vec![top]
        } else {
            list(items, "key_groups")?
                .iter()
                .map(|group| match group {
                    Value::Map(fields) => key_group(fields),
                    _ => Err(malformed("a `key_groups` entry is not a mapping")),
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        if key_groups.iter().all(KeyGroup::is_empty) {
            return Err(malformed(
                "no key holds the data key (no `age`, `pgp`, `kms`… entry)",
            ));
        }
        let shamir_threshold = match get(items, "shamir_threshold") {
            None | Some(Value::Null) => None,
            Some(Value::Int(number)) => Some(*number),
            Some(Value::Float(number)) if number.fract() == 0.0 => Some(*number as i64),
            Some(Value::Str(text)) => Some(
                text.parse()
                    .map_err(|_| malformed("`shamir_threshold` is not an integer"))?,
            ),
            Some(_) => return Err(malformed("`shamir_threshold` is not an integer")),
        };
        let mac_only_encrypted = match get(items, "mac_only_encrypted") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(flag)) => *flag,
            Some(Value::Str(text)) => text == "true",
            Some(_) => return Err(malformed("`mac_only_encrypted` is not a boolean")),
        };
        Ok(Metadata {
            key_groups,
            shamir_threshold,
            lastmodified: text(items, "lastmodified")?
                .ok_or_else(|| malformed("`lastmodified` is missing"))?,
            mac: text(items, "mac")?.unwrap_or_default(),
            rules: RuleSettings {
                unencrypted_suffix: text(items, "unencrypted_suffix")?,
                encrypted_suffix: text(items, "encrypted_suffix")?,
                unencrypted_regex: text(items, "unencrypted_regex")?,
                encrypted_regex: text(items, "encrypted_regex")?,
                unencrypted_comment_regex: text(items, "unencrypted_comment_regex")?,
                encrypted_comment_regex: text(items, "encrypted_comment_regex")?,
            },
            mac_only_encrypted,
            version: text(items, "version")?.unwrap_or_default(),
        })
    }

    /// The `sops` mapping in the field order sops writes. Only single-group age metadata is
    /// written (plumb encrypts for age recipients only).
    pub(crate) fn to_value(&self) -> Value {
        let mut items = Vec::new();
        let age: Vec<Value> = self
            .key_groups
            .iter()
            .flat_map(|group| &group.age)
            .map(|stanza| {
                Value::Map(vec![
                    Item::entry("recipient", Value::Str(stanza.recipient.clone())),
                    Item::entry("enc", Value::Str(stanza.enc.clone())),
                ])
            })
            .collect();
        items.push(Item::entry("age", Value::Seq(age)));
        items.push(Item::entry(
            "lastmodified",
            Value::Str(self.lastmodified.clone()),
        ));
        items.push(Item::entry("mac", Value::Str(self.mac.clone())));
        let rules = [
            ("unencrypted_suffix", &self.rules.unencrypted_suffix),
            ("encrypted_suffix", &self.rules.encrypted_suffix),
            ("unencrypted_regex", &self.rules.unencrypted_regex),
            ("encrypted_regex", &self.rules.encrypted_regex),
            (
                "unencrypted_comment_regex",
                &self.rules.unencrypted_comment_regex,
            ),
            (
                "encrypted_comment_regex",
                &self.rules.encrypted_comment_regex,
            ),
        ];
        for (name, value) in rules {
            if let Some(value) = value.as_ref().filter(|value| !value.is_empty()) {
                items.push(Item::entry(name, Value::Str(value.clone())));
            }
        }
        if self.mac_only_encrypted {
            items.push(Item::entry("mac_only_encrypted", Value::Bool(true)));
        }
        items.push(Item::entry("version", Value::Str(self.version.clone())));
        Value::Map(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(recipient: &str) -> Value {
        Value::Map(vec![
            Item::entry("recipient", Value::Str(recipient.into())),
            Item::entry(
                "enc",
                Value::Str("-----BEGIN AGE ENCRYPTED FILE-----\n…".into()),
            ),
        ])
    }

    fn base() -> Vec<Item> {
        vec![
            Item::entry("age", Value::Seq(vec![age("age1one")])),
            Item::entry("lastmodified", Value::Str("2026-11-22T22:45:39Z".into())),
            Item::entry("mac", Value::Str("ENC[…]".into())),
            Item::entry("encrypted_regex", Value::Str("^(data|stringData)$".into())),
            Item::entry("mac_only_encrypted", Value::Bool(true)),
            Item::entry("version", Value::Str("3.11.0".into())),
        ]
    }

    #[test]
    fn reads_and_writes_back_the_same_fields() {
        let metadata = Metadata::from_value(&Value::Map(base())).unwrap();
        assert_eq!(metadata.key_groups.len(), 1);
        assert_eq!(metadata.key_groups[0].age[0].recipient, "age1one");
        assert!(metadata.mac_only_encrypted);
        assert_eq!(
            metadata.rules.encrypted_regex.as_deref(),
            Some("^(data|stringData)$")
        );
        assert_eq!(metadata.to_value(), Value::Map(base()));
    }

    #[test]
    fn pgp_only_is_recognised_as_another_kind() {
        let items = vec![
            Item::entry(
                "pgp",
                Value::Seq(vec![Value::Map(vec![Item::entry(
                    "fp",
                    Value::Str("ABC".into()),
                )])]),
            ),
            Item::entry("lastmodified", Value::Str("2026-11-22T22:45:39Z".into())),
            Item::entry("mac", Value::Str(String::new())),
        ];
        let metadata = Metadata::from_value(&Value::Map(items)).unwrap();
        assert!(metadata.key_groups[0].age.is_empty());
        assert_eq!(metadata.key_groups[0].others, [("pgp", 1)]);
    }

    #[test]
    fn key_groups_and_dotenv_strings() {
        let group = |recipient: &str| {
            Value::Map(vec![Item::entry("age", Value::Seq(vec![age(recipient)]))])
        };
        let items = vec![
            Item::entry(
                "key_groups",
                Value::Seq(vec![group("age1a"), group("age1b")]),
            ),
            Item::entry("shamir_threshold", Value::Str("2".into())),
            Item::entry("lastmodified", Value::Str("2026-11-22T22:45:39Z".into())),
            Item::entry("mac_only_encrypted", Value::Str("true".into())),
        ];
        let metadata = Metadata::from_value(&Value::Map(items)).unwrap();
        assert_eq!(metadata.key_groups.len(), 2);
        assert_eq!(metadata.shamir_threshold, Some(2));
        assert!(metadata.mac_only_encrypted);
    }

    #[test]
    fn missing_pieces_are_malformed() {
        let no_keys = vec![Item::entry("lastmodified", Value::Str("x".into()))];
        let error = Metadata::from_value(&Value::Map(no_keys)).unwrap_err();
        assert!(
            error.to_string().contains("no key holds the data key"),
            "{error}"
        );
        let mut no_time = base();
        no_time.retain(|item| !matches!(item, Item::Entry { key, .. } if key == "lastmodified"));
        let error = Metadata::from_value(&Value::Map(no_time)).unwrap_err();
        assert!(
            error.to_string().contains("`lastmodified` is missing"),
            "{error}"
        );
        assert!(Metadata::from_value(&Value::Str("x".into())).is_err());
    }
}
