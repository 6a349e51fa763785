//! `plumb import`: Argo CD and Flux resources in, plumb Applications out (as YAML, to
//! commit or `kubectl apply`), each field without an equivalent warned of on stderr.
#![allow(
    clippy::print_stderr,
    reason = "warnings go to stderr, the Applications to stdout"
)]

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context as _;
use plumb_controller::import::import;
use serde_json::Value;

use crate::cli::ImportArgs;
use crate::output;

pub(crate) fn run(args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let mut documents = Vec::new();
    for file in &args.files {
        let text = if file.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read standard input")?;
            text
        } else {
            std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?
        };
        let parsed: Vec<Value> = serde_saphyr::from_multiple(&text)
            .with_context(|| format!("{} is not YAML or JSON", file.display()))?;
        // `kubectl get -o yaml` wraps what it prints in a List.
        for document in parsed {
            match document["items"].as_array() {
                Some(items) if document["kind"] == "List" => documents.extend(items.clone()),
                _ if document.is_null() => {}
                _ => documents.push(document),
            }
        }
    }
    let (imported, skipped) = import(&documents, args.namespace.as_deref());
    for line in &skipped {
        eprintln!("plumb import: {line}");
    }
    if imported.is_empty() {
        anyhow::bail!("no Argo CD Application or Flux Kustomization among the documents");
    }
    let mut applications = Vec::new();
    for one in imported {
        for warning in &one.warnings {
            eprintln!("plumb import: warning: {warning}");
        }
        applications.push(serde_json::to_value(&one.application)?);
    }
    output::yaml_documents(applications.into_iter())?;
    Ok(ExitCode::SUCCESS)
}
