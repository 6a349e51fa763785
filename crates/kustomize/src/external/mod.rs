//! Handing a kustomization plumb's engine does not support to an external `kustomize`
//! or `kubectl` (opt-in, `--kustomize-external`), without handing it the machine.
//!
//! ```text
//!  paths::check (every base, resource and file inside the repository)
//!    ─▶ process::run (`build DIR --load-restrictor` as the render's, scrubbed
//!       environment, private HOME, own process group, deadline, bounded output)
//!    ─▶ parse its YAML like any manifest file, within the render's limits
//! ```
//!
//! The binary still reads the repository itself; what plumb guarantees is that everything
//! the kustomizations name was found inside the repository first, that it runs no longer
//! than `max_external_seconds`, prints no more than `max_total_bytes`, and sees nothing of
//! the controller's environment.

mod paths;
pub(crate) mod process;

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use super::Built;
use super::load::Context;
use crate::error::{Error, Result};

/// The objects `command` renders for the kustomization in `dir` (`relative` to the root).
pub(crate) fn render(
    context: &Context<'_>,
    command: &str,
    dir: &Path,
    relative: &str,
) -> Result<Vec<Built>> {
    let options = context.options;
    // A fresh count of reads: the native attempt already spent some of the budget.
    let checking = Context::new(context.root.clone(), options);
    paths::check(&checking, checking.root.resolve(relative)?)?;

    let is_kubectl = Path::new(command)
        .file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with("kubectl"));
    let verb = if is_kubectl { "kustomize" } else { "build" };
    let args: [&OsStr; 4] = [
        verb.as_ref(),
        dir.as_os_str(),
        "--load-restrictor".as_ref(),
        options.load_restrictor.flag().as_ref(),
    ];
    let limits = &options.limits;
    let timeout = Duration::from_secs(limits.max_external_seconds);
    let failed = |detail: String| Error::KustomizeExternal {
        path: relative.to_owned(),
        command: command.to_owned(),
        detail,
    };
    let output =
        process::run(command, &args, timeout, limits.max_total_bytes).map_err(|failure| {
            match failure {
                process::Failure::Spawn(source) => Error::Manifest(plumb_manifest::Error::Io {
                    path: command.to_owned(),
                    source,
                }),
                process::Failure::Timeout(after) => {
                    Error::Manifest(plumb_manifest::Error::LimitExceeded {
                        limit: "max_external_seconds",
                        value: after.as_secs(),
                        detail: format!("{command} for {relative} was still running; killed"),
                    })
                }
                process::Failure::TooMuchOutput(read) => {
                    Error::Manifest(plumb_manifest::Error::LimitExceeded {
                        limit: "max_total_bytes",
                        value: limits.max_total_bytes,
                        detail: format!(
                            "{command} for {relative} printed over {read} bytes; killed"
                        ),
                    })
                }
                process::Failure::Exit(stderr) => failed(stderr),
            }
        })?;
    let source = format!("{relative} (rendered by {command})");
    let contents = plumb_manifest::parse_with(
        &source,
        plumb_manifest::Syntax::Yaml,
        &output,
        false,
        limits.kustomize_yaml_options(),
    )?;
    Ok(contents
        .objects
        .into_iter()
        .map(|o| o.into_parts())
        .collect())
}
