//! One module per command; each calls the library crates and hands values to `output`.
//! Each returns the process exit code: 0 success, 1 differences (diff), 2 error.

mod apply;
mod diff;
mod render;
mod secrets;

use std::process::ExitCode;

use anyhow::Context as _;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use plumb_engine::PlanOptions;
use plumb_render::{DirectoryOptions, RenderOptions, Rendered};

use crate::cli::{Cli, Command, Source, SyncArgs, Target};
use crate::output;

/// Runs the parsed command.
pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Render(args) => render::run(&args),
        Command::Diff(args) => runtime()?.block_on(diff::run(&args)),
        Command::Apply(args) => runtime()?.block_on(apply::run(&args)),
        Command::Secrets(command) => secrets::run(&command),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Renders the directory a command names; reports ignored documents as warnings.
pub(crate) fn render_source(source: &Source) -> anyhow::Result<Rendered> {
    let options = RenderOptions {
        directory: DirectoryOptions {
            recursive: source.recursive,
            include: source.include.clone(),
            exclude: source.exclude.clone(),
        },
        decryption: secrets::identities(&source.keys)?,
        ..RenderOptions::default()
    };
    let rendered = plumb_render::render(&source.root, &source.path, &options)
        .with_context(|| format!("cannot render {}", source.path))?;
    for ignored in &rendered.ignored {
        output::warn(&format!("{}: ignored: {}", ignored.origin, ignored.reason));
    }
    Ok(rendered)
}

/// A client for the cluster, found as kubectl finds it, and the namespace to default to.
pub(crate) async fn connect(target: &Target) -> anyhow::Result<(Client, String)> {
    let options = KubeConfigOptions {
        context: target.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = match &target.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            Config::from_custom_kubeconfig(kubeconfig, &options).await?
        }
        None if target.context.is_some() => Config::from_kubeconfig(&options).await?,
        None => Config::infer()
            .await
            .context("cannot find a cluster (set KUBECONFIG or --kubeconfig)")?,
    };
    let namespace = target
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = Client::try_from(config).context("cannot build a Kubernetes client")?;
    Ok((client, namespace))
}

/// The plan options a diff or apply asks for.
pub(crate) fn plan_options(args: &SyncArgs, namespace: &str) -> PlanOptions {
    PlanOptions {
        default_namespace: Some(namespace.to_owned()),
        force_conflicts: !args.no_force_conflicts,
        prune: args.prune,
        allow_empty: args.allow_empty,
        ignore_differences: Vec::new(),
        cached_reads: false,
    }
}
