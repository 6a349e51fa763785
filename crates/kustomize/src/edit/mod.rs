//! Editing the `images:` list of a kustomization file in place, as text.
//!
//! A kustomization is written by people: comments, key order, blank lines and quoting
//! carry meaning for the team that reviews it. Parsing and re-serialising would lose all
//! of that, so this module changes only the bytes of the entries it edits (a value, a
//! line added or removed inside an entry, an entry appended) and leaves every other byte
//! as it was.
//!
//! Guarantees:
//! - the edit is checked by parsing the result again: every top-level field but `images`
//!   must read exactly as before, and `images` exactly as intended — otherwise nothing is
//!   returned but an error;
//! - shapes it cannot edit safely (a flow-style list with entries, anchors, multi-line or
//!   tagged values in a field it must change, several documents) are refused with an error
//!   that names the line and says how to rewrite it;
//! - line endings (LF or CRLF), the list's indentation (`- ` at the key's column or
//!   indented) and each edited value's quoting style are kept.

use serde_json::{Map, Value};

mod editor;
mod text;

use crate::error::{Error, Result};
use editor::Editor;

/// What to do with one field of an `images:` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldChange {
    /// Leave it as it is (absent stays absent).
    Keep,
    /// Set it to this value.
    Set(String),
    /// Remove it.
    Remove,
}

/// The change to the `images:` entry with `name` (created when there is none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageEntryChange {
    /// The entry's `name`: the image name the transformer matches.
    pub name: String,
    /// `newName`.
    pub new_name: FieldChange,
    /// `newTag`.
    pub new_tag: FieldChange,
    /// `digest`.
    pub digest: FieldChange,
    /// `tagSuffix`.
    pub tag_suffix: FieldChange,
}

impl ImageEntryChange {
    /// A change that keeps every field of the entry named `name`.
    pub fn keep(name: &str) -> Self {
        ImageEntryChange {
            name: name.to_owned(),
            new_name: FieldChange::Keep,
            new_tag: FieldChange::Keep,
            digest: FieldChange::Keep,
            tag_suffix: FieldChange::Keep,
        }
    }

    /// The fields in the order Kustomize writes them.
    fn fields(&self) -> [(&'static str, &FieldChange); 4] {
        [
            ("newName", &self.new_name),
            ("newTag", &self.new_tag),
            ("digest", &self.digest),
            ("tagSuffix", &self.tag_suffix),
        ]
    }
}

/// The order Kustomize writes an entry's keys in; new keys are placed by it.
const KEY_ORDER: [&str; 5] = ["name", "newName", "newTag", "digest", "tagSuffix"];

/// Applies `changes` to the kustomization `text` (of `file`, named in errors). Returns
/// `None` when the file already says what the changes ask for.
pub fn set_images(file: &str, text: &str, changes: &[ImageEntryChange]) -> Result<Option<String>> {
    let changes = &merged(changes);
    let document = parse(file, text)?;
    let Value::Object(original) = &document else {
        return Err(refuse(
            file,
            None,
            "the kustomization is not a mapping of fields",
        ));
    };
    let before = match original.get("images") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(entries)) => entries.clone(),
        Some(_) => return Err(refuse(file, None, "`images` is not a list")),
    };
    let after = intended(file, &before, changes)?;
    if after == before {
        return Ok(None);
    }
    let edited = Editor::new(file, text)?.apply(&before, &after, changes)?;
    verify(file, original, &edited, &after)?;
    Ok(Some(edited))
}

fn parse(file: &str, text: &str) -> Result<Value> {
    let options = plumb_manifest::Limits::default().kustomize_yaml_options();
    let documents: Vec<Value> =
        serde_saphyr::from_slice_multiple_with_options(text.as_bytes(), options).map_err(
            |err| {
                Error::Manifest(plumb_manifest::Error::Syntax {
                    path: file.to_owned(),
                    detail: err
                        .to_string()
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                })
            },
        )?;
    if documents.len() > 1 {
        return Err(refuse(
            file,
            None,
            "the file holds several YAML documents; Kustomize reads the first only — keep one",
        ));
    }
    Ok(documents.into_iter().next().unwrap_or(Value::Null))
}

/// One change per name: a later change of a field overrides an earlier one.
fn merged(changes: &[ImageEntryChange]) -> Vec<ImageEntryChange> {
    let mut out: Vec<ImageEntryChange> = Vec::new();
    for change in changes {
        let Some(known) = out.iter_mut().find(|c| c.name == change.name) else {
            out.push(change.clone());
            continue;
        };
        let fields = [
            (&mut known.new_name, &change.new_name),
            (&mut known.new_tag, &change.new_tag),
            (&mut known.digest, &change.digest),
            (&mut known.tag_suffix, &change.tag_suffix),
        ];
        for (known, new) in fields {
            if *new != FieldChange::Keep {
                *known = new.clone();
            }
        }
    }
    out
}

/// The `images` list as it should read after the changes.
fn intended(file: &str, before: &[Value], changes: &[ImageEntryChange]) -> Result<Vec<Value>> {
    let mut after = before.to_vec();
    for change in changes {
        let matching: Vec<usize> = after
            .iter()
            .enumerate()
            .filter(|(_, e)| e.get("name").and_then(Value::as_str) == Some(change.name.as_str()))
            .map(|(i, _)| i)
            .collect();
        let entry = match matching.as_slice() {
            [] => {
                let mut entry = Map::new();
                entry.insert("name".into(), Value::String(change.name.clone()));
                after.push(Value::Object(entry));
                after.last_mut().expect("just pushed")
            }
            [one] => &mut after[*one],
            _ => {
                return Err(refuse(
                    file,
                    None,
                    &format!(
                        "`images` has {} entries named {:?}; Kustomize applies each in turn — keep one",
                        matching.len(),
                        change.name
                    ),
                ));
            }
        };
        let Value::Object(entry) = entry else {
            return Err(refuse(file, None, "an `images` entry is not a mapping"));
        };
        for (key, field) in change.fields() {
            match field {
                FieldChange::Keep => {}
                FieldChange::Set(value) => {
                    entry.insert(key.into(), Value::String(value.clone()));
                }
                FieldChange::Remove => {
                    entry.remove(key);
                }
            }
        }
    }
    Ok(after)
}

/// Parses the edited text and compares it with what was intended.
fn verify(file: &str, original: &Map<String, Value>, edited: &str, after: &[Value]) -> Result<()> {
    let broken = |detail: String| {
        refuse(
            file,
            None,
            &format!(
                "plumb's edit did not read back as intended ({detail}); the file was not changed — please report this with the file"
            ),
        )
    };
    let document = parse(file, edited).map_err(|err| broken(err.to_string()))?;
    let Value::Object(edited) = document else {
        return Err(broken("no longer a mapping".into()));
    };
    let others = |map: &Map<String, Value>| {
        map.iter()
            .filter(|(k, _)| *k != "images")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>()
    };
    if others(original) != others(&edited) {
        return Err(broken("another field changed".into()));
    }
    if edited.get("images") != Some(&Value::Array(after.to_vec())) {
        return Err(broken("`images` differs".into()));
    }
    Ok(())
}

fn refuse(file: &str, line: Option<usize>, detail: &str) -> Error {
    Error::KustomizationNotEditable {
        file: file.to_owned(),
        line,
        detail: detail.to_owned(),
    }
}

#[cfg(test)]
mod tests;
