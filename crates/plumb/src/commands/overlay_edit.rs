//! What `set-image` and `promote` share in the binary: the flags turned into a
//! [`Publication`], the edit made by `plumb-promote`, and its report printed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use plumb_promote::{Edit, ImageMove, Outcome, Publication, Verb};
use plumb_source::{Credentials, Published};
use serde::Serialize;

use crate::cli::{EditFlags, Format, GitCredentials};
use crate::output;

/// Exit code when the overlay already says what was asked.
pub(crate) const UP_TO_DATE: u8 = 3;

/// The report `-o json` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    command: &'a str,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'a str>,
    file: &'a str,
    result: &'a str,
    dry_run: bool,
    images: &'a [ImageMove],
    warnings: &'a [String],
    diff: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<String>,
    pushed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    remote: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attempts: Option<u32>,
}

/// Makes the edit as the flags ask and prints what it did; returns the exit code.
pub(crate) async fn run(edit: &Edit<'_>, flags: &EditFlags) -> anyhow::Result<ExitCode> {
    let how = Publication {
        dry_run: flags.dry_run,
        commit: flags.commit,
        push: flags.push,
        author: flags.author.clone(),
        subject: flags.message.clone(),
        remote: flags.remote.clone(),
        branch: flags.branch.clone(),
        attempts: flags.attempts,
        credentials: if flags.dry_run || !(flags.commit || flags.push) {
            Credentials::None
        } else {
            credentials(&flags.credentials)?
        },
    };
    let outcome = edit.publish(&how).await?;
    print(edit, flags, &outcome)?;
    Ok(if outcome.up_to_date() {
        ExitCode::from(UP_TO_DATE)
    } else {
        ExitCode::SUCCESS
    })
}

fn print(edit: &Edit<'_>, flags: &EditFlags, outcome: &Outcome) -> anyhow::Result<()> {
    let attempt = &outcome.attempt;
    for warning in &attempt.warnings {
        output::warn(warning);
    }
    let diff = attempt.after.as_ref().map_or_else(String::new, |after| {
        similar::TextDiff::from_lines(&attempt.before, after)
            .unified_diff()
            .context_radius(3)
            .header(
                &format!("a/{}", attempt.file),
                &format!("b/{}", attempt.file),
            )
            .to_string()
    });
    let (commit, pushed, remote, branch, attempts) = match &outcome.published {
        Some(Published::Pushed {
            commit,
            attempts,
            remote,
            branch,
        }) => (
            Some(commit.to_string()),
            true,
            Some(remote.clone()),
            Some(branch.clone()),
            Some(*attempts),
        ),
        Some(Published::Committed { commit }) => {
            (Some(commit.to_string()), false, None, None, Some(1))
        }
        Some(Published::UpToDate { attempts }) => (None, false, None, None, Some(*attempts)),
        None => (None, false, None, None, None),
    };
    let report = Report {
        command: edit.verb.command(),
        path: &edit.path,
        from: match &edit.verb {
            Verb::Promote { from } => Some(from),
            Verb::Set => None,
        },
        file: &attempt.file,
        result: if outcome.up_to_date() {
            "up-to-date"
        } else {
            "changed"
        },
        dry_run: flags.dry_run,
        images: &attempt.moves,
        warnings: &attempt.warnings,
        diff,
        commit,
        pushed,
        remote,
        branch,
        attempts,
    };
    if flags.output == Format::Human {
        human(&report);
        Ok(())
    } else {
        output::machine(&report, flags.output)
    }
}

fn human(report: &Report<'_>) {
    if report.result == "up-to-date" {
        output::line(&format!("{}: already up to date", report.file));
        return;
    }
    output::line(report.diff.trim_end());
    for m in report.images.iter().filter(|m| m.from != m.to) {
        output::line(&format!(
            "{}: {} -> {}",
            m.name,
            plumb_promote::shown(&m.from),
            m.to.join(", ")
        ));
    }
    match (&report.commit, report.pushed) {
        (Some(commit), true) => output::line(&format!(
            "pushed {commit} to {} {}{}",
            report.remote.as_deref().unwrap_or_default(),
            report.branch.as_deref().unwrap_or_default(),
            match report.attempts {
                Some(n) if n > 1 => format!(" (attempt {n}: others pushed first)"),
                _ => String::new(),
            }
        )),
        (Some(commit), false) => output::line(&format!("committed {commit}")),
        (None, _) if report.dry_run => output::line("dry run: nothing written"),
        (None, _) => output::line(&format!("wrote {}", report.file)),
    }
}

/// The push credentials the flags and environment give.
fn credentials(flags: &GitCredentials) -> anyhow::Result<Credentials> {
    let from_env = |name: &str| std::env::var_os(name).map(PathBuf::from);
    let key = flags
        .ssh_key_file
        .clone()
        .or_else(|| from_env("PLUMB_GIT_SSH_KEY_FILE"));
    if let Some(key) = key {
        let known_hosts = flags
            .known_hosts_file
            .clone()
            .or_else(|| from_env("PLUMB_GIT_KNOWN_HOSTS_FILE"))
            .context("an SSH key needs a known_hosts file (--known-hosts-file): unknown hosts are refused")?;
        let read = |path: &Path| {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
        };
        return Ok(Credentials::ssh(&read(&key)?, &read(&known_hosts)?));
    }
    match std::env::var(&flags.token_env) {
        Ok(token) if !token.is_empty() => Ok(Credentials::basic(&flags.git_username, &token)),
        _ => Ok(Credentials::None),
    }
}
