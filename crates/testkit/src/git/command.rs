//! Running the git CLI isolated from the machine's and the user's git configuration.

use std::path::Path;
use std::process::Command;

use crate::Error;

/// A `git` command that ignores `~/.gitconfig` and `/etc/gitconfig`, so tests behave the
/// same on every machine (default branch, hooks, credential helpers, signing).
pub(crate) fn git(dir: &Path) -> Command {
    let mut command = Command::new("git");
    isolate(&mut command);
    command.current_dir(dir);
    command
}

/// Applies the isolating environment to any command that runs git.
pub(crate) fn isolate(command: &mut Command) {
    command
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
}

/// Runs `git args...` in `dir` and returns its trimmed stdout, or its stderr as the error.
pub(crate) fn run_git(dir: &Path, args: &[&str]) -> Result<String, Error> {
    run(git(dir).args(args), args)
}

/// Runs a prepared git command; `args` are only for the error message.
pub(crate) fn run(command: &mut Command, args: &[&str]) -> Result<String, Error> {
    let output = command.output().map_err(|source| Error::Spawn {
        program: "git".into(),
        source,
    })?;
    if !output.status.success() {
        return Err(Error::Git {
            args: args.join(" "),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
