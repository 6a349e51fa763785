//! Which values a file encrypts: sops' `*_suffix` / `*_regex` / `*_comment_regex` rules.
//!
//! A file carries at most one rule in its metadata; with none, sops applies
//! `unencrypted_suffix: _unencrypted`. Path rules look at every key on the path of a value
//! (sequence indexes are not on paths): a suffix or regex matching any of them decides.
//!
//! The comment rules decide by the comments written before a value. plumb's YAML reader does
//! not keep comments, so for files using a comment rule a value counts as encrypted exactly
//! when it has the `ENC[AES256_GCM,…]` form. For every file sops writes that is the same
//! decision, and the MAC still covers all values (unless `mac_only_encrypted`).

use regex::Regex;

use super::SopsError;
use super::value::looks_encrypted;

/// The suffix sops applies when a file names no rule.
pub(crate) const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

/// The encryption rule of a file.
#[derive(Debug, Clone)]
pub(crate) enum Rule {
    /// Values under a key ending with this suffix stay in clear.
    UnencryptedSuffix(String),
    /// Only values under a key ending with this suffix are encrypted.
    EncryptedSuffix(String),
    /// Values under a key matching this stay in clear.
    UnencryptedRegex(Regex),
    /// Only values under a key matching this are encrypted.
    EncryptedRegex(Regex),
    /// `encrypted_comment_regex` / `unencrypted_comment_regex`: decided by the value's form.
    ByComment,
}

/// The rule settings as found in metadata or options, before checking.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct RuleSettings {
    pub(crate) unencrypted_suffix: Option<String>,
    pub(crate) encrypted_suffix: Option<String>,
    pub(crate) unencrypted_regex: Option<String>,
    pub(crate) encrypted_regex: Option<String>,
    pub(crate) unencrypted_comment_regex: Option<String>,
    pub(crate) encrypted_comment_regex: Option<String>,
}

fn set(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|text| !text.is_empty())
}

impl RuleSettings {
    /// The one rule these settings name (empty strings count as unset, as in sops), or
    /// the default. `invalid` builds the error for a conflict or a bad regex.
    pub(crate) fn rule(&self, invalid: impl Fn(String) -> SopsError) -> Result<Rule, SopsError> {
        let named = [
            ("unencrypted_suffix", set(&self.unencrypted_suffix)),
            ("encrypted_suffix", set(&self.encrypted_suffix)),
            ("unencrypted_regex", set(&self.unencrypted_regex)),
            ("encrypted_regex", set(&self.encrypted_regex)),
            (
                "unencrypted_comment_regex",
                set(&self.unencrypted_comment_regex),
            ),
            (
                "encrypted_comment_regex",
                set(&self.encrypted_comment_regex),
            ),
        ];
        let chosen: Vec<(&str, &str)> = named
            .iter()
            .filter_map(|(name, value)| value.map(|value| (*name, value)))
            .collect();
        let compile = |name: &str, pattern: &str| {
            Regex::new(pattern)
                .map_err(|error| invalid(format!("`{name}` is not a valid regex: {error}")))
        };
        match chosen.as_slice() {
            [] => Ok(Rule::UnencryptedSuffix(
                DEFAULT_UNENCRYPTED_SUFFIX.to_owned(),
            )),
            [("unencrypted_suffix", suffix)] => Ok(Rule::UnencryptedSuffix((*suffix).to_owned())),
            [("encrypted_suffix", suffix)] => Ok(Rule::EncryptedSuffix((*suffix).to_owned())),
            [(name @ "unencrypted_regex", pattern)] => {
                Ok(Rule::UnencryptedRegex(compile(name, pattern)?))
            }
            [(name @ "encrypted_regex", pattern)] => {
                Ok(Rule::EncryptedRegex(compile(name, pattern)?))
            }
            [(name, pattern)] => {
                compile(name, pattern)?;
                Ok(Rule::ByComment)
            }
            several => Err(invalid(format!(
                "only one of encrypted_suffix, unencrypted_suffix, encrypted_regex, \
                 unencrypted_regex, encrypted_comment_regex and unencrypted_comment_regex may \
                 be set, found {}",
                several
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The settings that write `rule` back into metadata.
    pub(crate) fn from_rule(rule: &Rule) -> RuleSettings {
        let mut settings = RuleSettings::default();
        match rule {
            Rule::UnencryptedSuffix(suffix) => settings.unencrypted_suffix = Some(suffix.clone()),
            Rule::EncryptedSuffix(suffix) => settings.encrypted_suffix = Some(suffix.clone()),
            Rule::UnencryptedRegex(regex) => {
                settings.unencrypted_regex = Some(regex.as_str().to_owned());
            }
            Rule::EncryptedRegex(regex) => {
                settings.encrypted_regex = Some(regex.as_str().to_owned());
            }
            Rule::ByComment => {}
        }
        settings
    }
}

impl Rule {
    /// Whether the leaf at `path` is (to be) encrypted. `current` is the leaf's text as
    /// found, used only by the comment rules on decryption.
    pub(crate) fn encrypts(&self, path: &[String], current: Option<&str>) -> bool {
        match self {
            Rule::UnencryptedSuffix(suffix) => {
                !path.iter().any(|key| key.ends_with(suffix.as_str()))
            }
            Rule::EncryptedSuffix(suffix) => path.iter().any(|key| key.ends_with(suffix.as_str())),
            Rule::UnencryptedRegex(regex) => !path.iter().any(|key| regex.is_match(key)),
            Rule::EncryptedRegex(regex) => path.iter().any(|key| regex.is_match(key)),
            Rule::ByComment => current.is_some_and(looks_encrypted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(keys: &[&str]) -> Vec<String> {
        keys.iter().map(|key| (*key).to_owned()).collect()
    }

    fn rule(settings: RuleSettings) -> Result<Rule, SopsError> {
        settings.rule(SopsError::malformed)
    }

    #[test]
    fn default_is_unencrypted_suffix() {
        let rule = rule(RuleSettings::default()).unwrap();
        assert!(rule.encrypts(&path(&["a", "b"]), None));
        assert!(!rule.encrypts(&path(&["a_unencrypted", "b"]), None));
        assert!(!rule.encrypts(&path(&["a", "b_unencrypted"]), None));
    }

    #[test]
    fn flux_encrypted_regex_matches_any_key_on_the_path() {
        let rule = rule(RuleSettings {
            encrypted_regex: Some("^(data|stringData)$".into()),
            ..RuleSettings::default()
        })
        .unwrap();
        assert!(rule.encrypts(&path(&["data", "password"]), None));
        assert!(rule.encrypts(&path(&["stringData", "x"]), None));
        assert!(!rule.encrypts(&path(&["metadata", "name"]), None));
        assert!(!rule.encrypts(&path(&["kind"]), None));
        // Top-level comments have an empty path: never matched by an encrypting rule.
        assert!(!rule.encrypts(&[], None));
    }

    #[test]
    fn other_rules() {
        let suffix = rule(RuleSettings {
            encrypted_suffix: Some("_secret".into()),
            ..RuleSettings::default()
        })
        .unwrap();
        assert!(suffix.encrypts(&path(&["db_secret", "x"]), None));
        assert!(!suffix.encrypts(&path(&["db"]), None));
        let unencrypted = rule(RuleSettings {
            unencrypted_regex: Some("^public".into()),
            ..RuleSettings::default()
        })
        .unwrap();
        assert!(!unencrypted.encrypts(&path(&["public_key"]), None));
        assert!(unencrypted.encrypts(&path(&["private_key"]), None));
        let comment = rule(RuleSettings {
            encrypted_comment_regex: Some("sops:enc".into()),
            ..RuleSettings::default()
        })
        .unwrap();
        assert!(comment.encrypts(
            &path(&["a"]),
            Some("ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]")
        ));
        assert!(!comment.encrypts(&path(&["a"]), Some("clear")));
    }

    #[test]
    fn several_rules_or_bad_regex_are_errors() {
        let both = rule(RuleSettings {
            encrypted_regex: Some("^data$".into()),
            unencrypted_suffix: Some("_clear".into()),
            ..RuleSettings::default()
        })
        .unwrap_err();
        assert!(both.to_string().contains("only one of"), "{both}");
        let bad = rule(RuleSettings {
            encrypted_regex: Some("(".into()),
            ..RuleSettings::default()
        })
        .unwrap_err();
        assert!(bad.to_string().contains("not a valid regex"), "{bad}");
        // An empty setting is no setting, as in sops.
        let empty = rule(RuleSettings {
            encrypted_regex: Some(String::new()),
            ..RuleSettings::default()
        })
        .unwrap();
        assert!(matches!(empty, Rule::UnencryptedSuffix(_)));
    }
}
