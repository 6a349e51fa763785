//! What `set-image` and `promote` share: an edit of one overlay's `images:` that is
//! rendered and checked before anything is written, then written, committed or pushed —
//! the edit made again from the files whenever a push finds the branch moved.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use plumb_kustomize::{
    BuildOptions, ContainerImage, ImageEntryChange, image_matches, kustomization_file,
    overlay_images, set_images, split_image,
};

use plumb_source::{
    Change, Checkout, Credentials, Identity, PublishError, PublishOptions, Published, PushTarget,
};
use serde::Serialize;

use crate::cli::{EditFlags, GitCredentials};
use crate::output;

/// Exit code when the overlay already says what was asked.
pub(crate) const UP_TO_DATE: u8 = 3;

/// The author when neither --author nor git's configuration names one.
const DEFAULT_AUTHOR: &str = "plumb <plumb@localhost>";

/// One image to change and what the overlay must render for it afterwards.
pub(crate) struct Wanted {
    pub(crate) change: ImageEntryChange,
    pub(crate) want: Want,
    /// Leave the entry alone when the overlay already renders what is wanted (promote:
    /// the environments already agree).
    pub(crate) skip_if_rendered: bool,
}

/// What containers using an image must run after the edit.
pub(crate) enum Want {
    /// Exactly this image.
    Exact(String),
    /// These parts (`Some("")`: must be absent); `None`: not checked.
    Parts {
        name: Option<String>,
        tag: Option<String>,
        digest: Option<String>,
    },
}

impl Want {
    fn met_by(&self, image: &str) -> bool {
        match self {
            Want::Exact(exact) => image == exact,
            Want::Parts { name, tag, digest } => {
                let (n, t, d) = split_image(image);
                name.as_ref().is_none_or(|x| *x == n)
                    && tag.as_ref().is_none_or(|x| *x == t)
                    && digest.as_ref().is_none_or(|x| *x == d)
            }
        }
    }
}

/// Which command edits, for messages.
pub(crate) enum Verb {
    Set,
    Promote { from: String },
}

/// An edit of the overlay at `path`.
pub(crate) struct Edit<'a> {
    pub(crate) root: &'a Path,
    pub(crate) path: String,
    pub(crate) options: BuildOptions,
    pub(crate) wanted: Vec<Wanted>,
    pub(crate) verb: Verb,
    pub(crate) strict: bool,
}

/// One image's versions before and after.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ImageMove {
    name: String,
    from: Vec<String>,
    to: Vec<String>,
}

/// One attempt at the edit, nothing written yet.
struct Attempt {
    file: String,
    before: String,
    after: Option<String>,
    moves: Vec<ImageMove>,
    warnings: Vec<String>,
}

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

impl Edit<'_> {
    /// Reads the kustomization, edits it in memory and renders the result.
    fn attempt(&self) -> anyhow::Result<Attempt> {
        let path = &self.path;
        let file = kustomization_file(self.root, path)
            .with_context(|| format!("{path} is not an overlay plumb can edit"))?;
        let before = std::fs::read_to_string(self.root.join(&file))
            .with_context(|| format!("cannot read {file}"))?;
        let containers = overlay_images(self.root, path, &self.options, None)
            .with_context(|| format!("{path} does not render; fix it first"))?;
        let mut warnings = Vec::new();
        let mut changes = Vec::new();
        let mut checks = Vec::new();
        for wanted in &self.wanted {
            let name = &wanted.change.name;
            let using: Vec<&ContainerImage> = containers
                .iter()
                .filter(|c| image_matches(name, &c.input))
                .collect();
            if using.is_empty() {
                let message = format!("no workload of {path} uses image {name:?}");
                if self.strict {
                    bail!("{message} (--strict); check the name against the images in its bases");
                }
                warnings.push(format!("{message}; its entry is set anyway"));
            }
            if wanted.skip_if_rendered
                && !using.is_empty()
                && using.iter().all(|c| wanted.want.met_by(&c.output))
            {
                continue;
            }
            changes.push(wanted.change.clone());
            checks.push(wanted);
        }
        let after = set_images(&file, &before, &changes)?;
        let rendered_after = match &after {
            Some(text) => {
                overlay_images(self.root, path, &self.options, Some(text)).with_context(|| {
                    format!("{path} would not render after the edit, so nothing was changed")
                })?
            }
            None => containers.clone(),
        };
        for wanted in checks {
            let name = &wanted.change.name;
            for container in rendered_after
                .iter()
                .filter(|c| image_matches(name, &c.input))
            {
                if !wanted.want.met_by(&container.output) {
                    bail!(
                        "after the edit, {} (container {}) of {path} would run {}, not what was asked for {name:?}: something after `images:` (replacements, another entry) changes it; nothing was changed",
                        container.object,
                        container.container,
                        container.output
                    );
                }
            }
        }
        let moves = self
            .wanted
            .iter()
            .map(|w| ImageMove {
                name: w.change.name.clone(),
                from: distinct(&containers, &w.change.name),
                to: distinct(&rendered_after, &w.change.name),
            })
            .collect();
        Ok(Attempt {
            file,
            before,
            after,
            moves,
            warnings,
        })
    }

    /// Runs the edit as the flags ask; returns the exit code.
    pub(crate) async fn run(&self, command: &str, flags: &EditFlags) -> anyhow::Result<ExitCode> {
        if flags.dry_run || !(flags.commit || flags.push) {
            let attempt = self.attempt()?;
            if let (Some(after), false) = (&attempt.after, flags.dry_run) {
                write(&self.root.join(&attempt.file), after)?;
            }
            return self.report(command, flags, &attempt, None);
        }
        let checkout = Checkout::open(
            self.root,
            PushTarget {
                remote: flags.remote.clone(),
                branch: flags.branch.clone(),
            },
        )
        .await?;
        let file = kustomization_file(self.root, &self.path)
            .with_context(|| format!("{} is not an overlay plumb can edit", self.path))?;
        let in_checkout = relative_to(&self.root.join(&file), checkout.root())?;
        checkout
            .ensure_clean(std::slice::from_ref(&in_checkout))
            .await?;
        let author = match &flags.author {
            Some(text) => Identity::parse(text)?,
            None => match checkout.configured_author().await {
                Some(author) => author,
                None => Identity::parse(DEFAULT_AUTHOR)?,
            },
        };
        let options = PublishOptions {
            author,
            push: flags.push,
            credentials: credentials(&flags.credentials)?,
            attempts: flags.attempts,
        };
        let last = RefCell::new(None);
        let published = checkout
            .publish(&options, || {
                let attempt = self.attempt()?;
                let change = match &attempt.after {
                    None => None,
                    Some(after) => {
                        write(&self.root.join(&attempt.file), after)?;
                        Some(Change {
                            paths: vec![in_checkout.clone()],
                            message: self.message(&attempt, flags.message.as_deref(), command),
                        })
                    }
                };
                last.replace(Some(attempt));
                anyhow::Ok(change)
            })
            .await
            .map_err(|err| match err {
                PublishError::Change(err) => err,
                PublishError::Source(err) => anyhow::Error::new(err),
            })?;
        let attempt = last.into_inner().context("the change was never made")?;
        self.report(command, flags, &attempt, Some(&published))
    }

    fn message(&self, attempt: &Attempt, subject: Option<&str>, command: &str) -> String {
        let path = &self.path;
        let changed: Vec<&ImageMove> = attempt.moves.iter().filter(|m| m.from != m.to).collect();
        let subject = match (subject, &self.verb, changed.as_slice()) {
            (Some(subject), _, _) => subject.to_owned(),
            (None, Verb::Set, [one]) => format!(
                "{path}: set {} to {} (was {})",
                one.name,
                one.to.join(", "),
                shown(&one.from)
            ),
            (None, Verb::Set, many) => format!(
                "{path}: set images {}",
                many.iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (None, Verb::Promote { from }, [one]) => format!(
                "{path}: promote {} {} from {from} (was {})",
                one.name,
                one.to.join(", "),
                shown(&one.from)
            ),
            (None, Verb::Promote { from }, many) => {
                format!("{path}: promote {} images from {from}", many.len())
            }
        };
        let mut body = String::new();
        for m in &changed {
            body.push_str(&format!(
                "- {}: {} -> {}\n",
                m.name,
                shown(&m.from),
                m.to.join(", ")
            ));
        }
        format!("{subject}\n\n{body}\nMade with `plumb {command}`.\n")
    }

    fn report(
        &self,
        command: &str,
        flags: &EditFlags,
        attempt: &Attempt,
        published: Option<&Published>,
    ) -> anyhow::Result<ExitCode> {
        for warning in &attempt.warnings {
            output::warn(warning);
        }
        let changed = attempt.after.is_some();
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
        let (commit, pushed, remote, branch, attempts) = match published {
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
        let up_to_date = !changed || matches!(published, Some(Published::UpToDate { .. }));
        let report = Report {
            command,
            path: &self.path,
            from: match &self.verb {
                Verb::Promote { from } => Some(from),
                Verb::Set => None,
            },
            file: &attempt.file,
            result: if up_to_date { "up-to-date" } else { "changed" },
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
        if flags.output == crate::cli::Format::Human {
            human(&report);
        } else {
            output::machine(&report, flags.output)?;
        }
        Ok(if up_to_date {
            ExitCode::from(UP_TO_DATE)
        } else {
            ExitCode::SUCCESS
        })
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
            shown(&m.from),
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

fn shown(images: &[String]) -> String {
    if images.is_empty() {
        "unused".into()
    } else {
        images.join(", ")
    }
}

/// The distinct images containers using `name` render, in order of appearance.
fn distinct(containers: &[ContainerImage], name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in containers.iter().filter(|c| image_matches(name, &c.input)) {
        if !out.contains(&c.output) {
            out.push(c.output.clone());
        }
    }
    out
}

/// Replaces the file in one step, keeping its permissions.
fn write(path: &Path, contents: &str) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write next to {}", path.display()))?;
    std::io::Write::write_all(&mut temp, contents.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    if let Ok(metadata) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(temp.path(), metadata.permissions());
    }
    temp.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

fn relative_to(path: &Path, root: &Path) -> anyhow::Result<PathBuf> {
    let path = std::fs::canonicalize(path)
        .with_context(|| format!("cannot resolve {}", path.display()))?;
    let root = std::fs::canonicalize(root)
        .with_context(|| format!("cannot resolve {}", root.display()))?;
    path.strip_prefix(&root)
        .map(Path::to_path_buf)
        .with_context(|| {
            format!(
                "{} is outside the checkout {}",
                path.display(),
                root.display()
            )
        })
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
