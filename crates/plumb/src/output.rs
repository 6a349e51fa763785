//! Everything the binary prints goes through here: plans and results for people (a line
//! per object, diffs indented) or machines (`-o json|yaml`), YAML documents, warnings.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "this module is the terminal"
)]

use std::io::Write as _;

use anyhow::Context as _;
use plumb_engine::{Change, Plan, SyncResult};

use crate::cli::Format;

/// Prints values as a multi-document YAML stream.
pub(crate) fn yaml_documents(
    documents: impl Iterator<Item = serde_json::Value>,
) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    for document in documents {
        let text = serde_saphyr::to_string(&document).context("cannot print an object as YAML")?;
        writeln!(stdout, "---\n{}", text.trim_end()).context("cannot write to stdout")?;
    }
    Ok(())
}

/// Prints objects as `kubectl kustomize` does (its key order, quoting and `---`s).
pub(crate) fn kustomize_documents(
    documents: impl Iterator<Item = serde_json::Value>,
) -> anyhow::Result<()> {
    let documents: Vec<serde_json::Value> = documents.collect();
    let text = plumb_kustomize::yaml_stream(documents.iter().filter_map(|d| d.as_object()));
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("cannot write to stdout")
}

/// Prints a plan.
pub(crate) fn plan(plan: &Plan, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => machine(
            &serde_json::json!({"app": plan.app, "inSync": plan.is_in_sync(), "actions": plan.actions}),
            format,
        ),
        Format::Yaml => machine(
            &serde_json::json!({"app": plan.app, "inSync": plan.is_in_sync(), "actions": plan.actions}),
            format,
        ),
        Format::Human => {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "app {}: {} to create, {} to update, {} to prune, {} in sync",
                plan.app,
                plan.count(Change::Create),
                plan.count(Change::Update),
                plan.count(Change::Prune),
                plan.count(Change::InSync),
            )?;
            for action in &plan.actions {
                let (mark, verb) = symbol(action.change);
                if action.change == Change::InSync {
                    continue;
                }
                let note = action
                    .note
                    .as_deref()
                    .map(|n| format!(" — {n}"))
                    .unwrap_or_default();
                writeln!(out, "{mark} {} ({verb}){note}", action.object)?;
                if let Some(diff) = &action.diff {
                    for line in diff.text.lines() {
                        writeln!(out, "    {line}")?;
                    }
                }
            }
            Ok(())
        }
    }
}

/// Prints what a sync did.
pub(crate) fn sync_result(result: &SyncResult, format: Format) -> anyhow::Result<()> {
    if format != Format::Human {
        return machine(result, format);
    }
    let mut out = std::io::stdout().lock();
    for outcome in &result.outcomes {
        let (mark, verb) = symbol(outcome.change);
        match &outcome.error {
            None => writeln!(out, "{mark} {} {}", outcome.object, past(verb))?,
            Some(error) => writeln!(out, "! {} failed to {verb}: {error}", outcome.object)?,
        }
    }
    if let Some(reason) = &result.stopped {
        writeln!(out, "stopped: {reason}")?;
    }
    let changed = result.outcomes.iter().filter(|o| o.error.is_none()).count();
    writeln!(out, "{changed} changed, {} tracked", result.inventory.len())?;
    Ok(())
}

/// Prints a line of progress.
pub(crate) fn line(message: &str) {
    println!("{message}");
}

/// Prints a line of a stream that runs until interrupted (`get -w`): a reader that went
/// away (`| head`) is an error to stop on, not a panic.
pub(crate) fn stream_line(message: &str) -> std::io::Result<()> {
    writeln!(std::io::stdout().lock(), "{message}")
}

/// Prints a warning on stderr.
pub(crate) fn warn(message: &str) {
    eprintln!("warning: {message}");
}

pub(crate) fn machine(value: &impl serde::Serialize, format: Format) -> anyhow::Result<()> {
    let text = match format {
        Format::Yaml => serde_saphyr::to_string(value).context("cannot print as YAML")?,
        _ => serde_json::to_string_pretty(value).context("cannot print as JSON")?,
    };
    println!("{}", text.trim_end());
    Ok(())
}

fn symbol(change: Change) -> (&'static str, &'static str) {
    match change {
        Change::Create => ("+", "create"),
        Change::Update => ("~", "update"),
        Change::InSync => ("=", "in sync"),
        Change::Prune => ("-", "prune"),
        Change::Skip => ("·", "skip"),
        Change::Run => (">", "run"),
        Change::Orphan => ("?", "keep"),
        Change::Release => ("!", "release"),
    }
}

fn past(verb: &str) -> &str {
    match verb {
        "create" => "created",
        "update" => "configured",
        "prune" => "pruned",
        "run" => "ran",
        other => other,
    }
}
