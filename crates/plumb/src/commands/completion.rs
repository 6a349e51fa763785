//! `plumb completion bash|zsh|fish`: a completion script generated from the command line's
//! own definition ([`crate::cli`]), so it always knows every command and flag of this build.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory as _;
use clap_complete::aot::{Bash, Fish, Generator, Zsh};

use crate::cli::{Cli, CompletionArgs, Shell};

pub(crate) fn run(args: &CompletionArgs) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&script(args.shell))
        .and_then(|()| stdout.flush())
        .context("cannot write the completion script to stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// The completion script for `shell`.
fn script(shell: Shell) -> Vec<u8> {
    match shell {
        Shell::Bash => generate(Bash),
        Shell::Zsh => generate(Zsh),
        Shell::Fish => generate(Fish),
    }
}

fn generate(generator: impl Generator) -> Vec<u8> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(generator, &mut command, "plumb", &mut script);
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_completes_the_commands_and_their_flags() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let script = String::from_utf8(script(shell)).unwrap();
            let flag = |name: &str| match shell {
                Shell::Fish => format!("-l {name} "),
                Shell::Bash | Shell::Zsh => format!("--{name}"),
            };
            for word in [
                "get".to_owned(),
                "apps".to_owned(),
                "history".to_owned(),
                "set-image".to_owned(),
                "completion".to_owned(),
                flag("watch"),
                flag("all-namespaces"),
                "wide".to_owned(),
            ] {
                assert!(script.contains(&word), "{shell:?} script lacks {word}");
            }
        }
    }

    #[test]
    fn each_shell_gets_its_own_syntax() {
        assert!(
            String::from_utf8(script(Shell::Bash))
                .unwrap()
                .contains("complete -F")
        );
        assert!(
            String::from_utf8(script(Shell::Zsh))
                .unwrap()
                .starts_with("#compdef plumb")
        );
        assert!(
            String::from_utf8(script(Shell::Fish))
                .unwrap()
                .contains("complete -c plumb")
        );
    }
}
