//! The four file formats sops reads and writes, behind one set of functions.
//!
//! Each format turns bytes into the shared [`Tree`] and back, and knows where its metadata
//! lives: a top-level `sops` key in every YAML document (read from the first) and in the
//! JSON object (binary files are JSON with a `data` string), `sops_*` lines in dotenv.

mod binary;
mod dotenv;
mod json;
mod yaml_emit;
mod yaml_parse;
mod yaml_scalar;

use super::tree::{Item, Tree, Value};
use super::{Format, SopsError};

const METADATA_KEY: &str = "sops";

/// Parsed documents, for either direction; `context` prefixes errors.
fn documents(content: &[u8], format: Format) -> Result<Vec<Vec<Item>>, String> {
    match format {
        Format::Yaml => {
            let text = std::str::from_utf8(content).map_err(|_| "the YAML is not UTF-8")?;
            yaml_parse::parse_documents(text)
        }
        Format::Json | Format::Binary => json::parse_object(content).map(|items| vec![items]),
        Format::Dotenv => dotenv::parse_lines(content).map(|items| vec![items]),
    }
}

/// Removes the `sops` entries of every document; returns the first document's.
fn take_metadata(documents: &mut [Vec<Item>]) -> Option<Value> {
    let mut first = None;
    for (index, document) in documents.iter_mut().enumerate() {
        let mut kept = Vec::with_capacity(document.len());
        for item in document.drain(..) {
            match item {
                Item::Entry { key, value } if key == METADATA_KEY => {
                    if index == 0 && first.is_none() {
                        first = Some(value);
                    }
                }
                other => kept.push(other),
            }
        }
        *document = kept;
    }
    first
}

/// Reads an encrypted file into its (still encrypted) tree and its metadata mapping.
pub(crate) fn load_encrypted(content: &[u8], format: Format) -> Result<(Tree, Value), SopsError> {
    let mut documents = documents(content, format).map_err(SopsError::malformed)?;
    let metadata = if format == Format::Dotenv {
        let items = documents.pop().unwrap_or_default();
        let (data, metadata) = dotenv::split_metadata(items).map_err(SopsError::malformed)?;
        documents.push(data);
        metadata
    } else {
        take_metadata(&mut documents)
    };
    let metadata = metadata.ok_or(SopsError::NotEncrypted)?;
    Ok((Tree::new(documents), metadata))
}

/// Whether the content carries sops metadata (`mac` or `version` in it).
pub(crate) fn is_encrypted(content: &[u8], format: Format) -> bool {
    if !content.windows(4).any(|window| window == b"sops") {
        return false;
    }
    if format == Format::Dotenv {
        return dotenv::has_metadata(content);
    }
    let Ok(mut documents) = documents(content, format) else {
        return false;
    };
    if format == Format::Binary {
        let has_data = documents.first().is_some_and(|items| {
            items
                .iter()
                .any(|item| matches!(item, Item::Entry { key, .. } if key == "data"))
        });
        if !has_data {
            return false;
        }
    }
    match take_metadata(&mut documents) {
        Some(Value::Map(items)) => items.iter().any(
            |item| matches!(item, Item::Entry { key, .. } if key == "mac" || key == "version"),
        ),
        _ => false,
    }
}

/// Reads a plaintext file to encrypt.
pub(crate) fn load_plain(content: &[u8], format: Format) -> Result<Tree, SopsError> {
    let documents = match format {
        Format::Binary => vec![binary::wrap(content)],
        _ => documents(content, format).map_err(|problem| {
            SopsError::encrypt(format!("the plaintext cannot be read: {problem}"))
        })?,
    };
    if documents.is_empty() {
        return Err(SopsError::encrypt(
            "the plaintext has no YAML document to encrypt",
        ));
    }
    let already = documents.iter().flatten().any(|item| match item {
        Item::Entry { key, .. } => {
            key == METADATA_KEY || (format == Format::Dotenv && key.starts_with("sops_"))
        }
        Item::Comment(_) => false,
    });
    if already && format != Format::Binary {
        return Err(SopsError::encrypt(
            "the file is already encrypted (it has sops metadata); decrypt it first",
        ));
    }
    Ok(Tree::new(documents))
}

/// Writes a decrypted tree in its format.
pub(crate) fn emit_plain(tree: &Tree, format: Format) -> Result<Vec<u8>, SopsError> {
    let failed = |problem: String| SopsError::malformed(format!("the decrypted data {problem}"));
    let first = || tree.documents.first().map_or(&[][..], Vec::as_slice);
    match format {
        Format::Yaml => {
            let documents: Vec<&[Item]> = tree.documents.iter().map(Vec::as_slice).collect();
            yaml_emit::emit_documents(&documents)
                .map(String::into_bytes)
                .map_err(failed)
        }
        Format::Json => json::emit_object(first())
            .map(String::into_bytes)
            .map_err(failed),
        Format::Dotenv => dotenv::emit_lines(first())
            .map(String::into_bytes)
            .map_err(failed),
        Format::Binary => binary::unwrap(first()).map_err(failed),
    }
}

/// Writes an encrypted tree with its metadata.
pub(crate) fn emit_encrypted(
    tree: &Tree,
    metadata: &Value,
    format: Format,
) -> Result<Vec<u8>, SopsError> {
    let with_metadata = |items: &[Item]| {
        let mut items = items.to_vec();
        items.push(Item::entry(METADATA_KEY, metadata.clone()));
        items
    };
    let first = || tree.documents.first().map_or(&[][..], Vec::as_slice);
    let text = match format {
        Format::Yaml => {
            let documents: Vec<Vec<Item>> = tree
                .documents
                .iter()
                .map(|items| with_metadata(items))
                .collect();
            let borrowed: Vec<&[Item]> = documents.iter().map(Vec::as_slice).collect();
            yaml_emit::emit_documents(&borrowed)
        }
        Format::Json | Format::Binary => json::emit_object(&with_metadata(first())),
        Format::Dotenv => {
            let mut items = first().to_vec();
            items.extend(dotenv::flatten_metadata(metadata));
            dotenv::emit_lines(&items)
        }
    };
    text.map(String::into_bytes).map_err(|problem| {
        SopsError::encrypt(format!("the encrypted file cannot be written: {problem}"))
    })
}
