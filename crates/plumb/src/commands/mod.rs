//! One module per command; each calls the library crates and hands values to `output`.
//! Each returns the process exit code: 0 success, 1 differences (diff), 2 error, 3 already
//! up to date (set-image, promote).

mod app_create;
mod app_delete;
mod app_row;
mod app_watch;
mod apply;
mod apps;
mod clusters;
mod completion;
mod controller;
mod detail_rows;
mod diff;
mod follow;
mod import;
mod install;
mod kept_discovery;
mod overlay_edit;
mod promote;
mod push;
mod render;
mod repository_root;
mod secrets;
mod set_image;
mod table;
mod uninstall;

use std::process::ExitCode;

use anyhow::Context as _;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use plumb_engine::PlanOptions;
use plumb_render::{DirectoryOptions, RenderOptions, Rendered};

use crate::cli::{AppCommand, Cli, Command, Source, SyncArgs, Target};
use crate::output;

/// Runs the parsed command.
pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Render(args) => render::run(&args),
        Command::Diff(args) => runtime()?.block_on(diff::run(&args)),
        Command::Apply(args) => runtime()?.block_on(apply::run(&args)),
        Command::Secrets(command) => secrets::run(&command),
        Command::Controller(args) => runtime()?.block_on(controller::run(&args)),
        Command::Install(args) => runtime()?.block_on(install::run(&args)),
        Command::Uninstall(args) => runtime()?.block_on(uninstall::run(&args)),
        Command::Get(command) => runtime()?.block_on(apps::get(&command)),
        Command::Import(args) => runtime()?.block_on(import::run(&args)),
        Command::App(AppCommand::Create(args)) => runtime()?.block_on(app_create::run(&args)),
        Command::App(AppCommand::Delete(args)) => runtime()?.block_on(app_delete::run(&args)),
        Command::Sync(args) => runtime()?.block_on(apps::sync(&args)),
        Command::History(args) => runtime()?.block_on(apps::history(&args)),
        Command::Rollback(args) => runtime()?.block_on(apps::rollback(&args)),
        Command::Suspend(args) => runtime()?.block_on(apps::suspend(&args)),
        Command::Resume(args) => runtime()?.block_on(apps::resume(&args)),
        Command::SetImage(args) => runtime()?.block_on(set_image::run(&args)),
        Command::Promote(args) => runtime()?.block_on(promote::run(&args)),
        Command::Completion(args) => completion::run(&args),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Leaves `value`'s memory to the operating system, which takes it back at exit for
/// nothing: freeing a large app's manifests and plan allocation by allocation took 10–20 ms
/// of a no-op `plumb apply` of 1,000 objects. Only for what a one-shot command is done with.
pub(crate) fn leave_to_exit<T>(value: T) {
    std::mem::forget(value);
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
        kustomize: source.kustomize.options(),
        load_restrictor: source.load_restrictor,
        ..RenderOptions::default()
    };
    let located = repository_root::locate(&source.path, source.root.as_deref())?;
    let options = RenderOptions {
        helm: helm_options(&source.helm, &located)?,
        random_key: source
            .helm
            .helm_random_key
            .as_deref()
            .map(random_key)
            .transpose()?,
        ..options
    };
    let rendered =
        plumb_render::render(&located.root, &located.path, &options).with_context(|| {
            format!(
                "cannot render {} (repository root {}{})",
                source.path,
                located.root.display(),
                if source.root.is_some() {
                    ""
                } else {
                    ", the top of the Git work tree holding it, else the directory itself; --root chooses another"
                }
            )
        })?;
    for ignored in &rendered.ignored {
        output::warn(&format!("{}: ignored: {}", ignored.origin, ignored.reason));
    }
    Ok(rendered)
}

/// What the Helm flags ask for; values files become paths relative to the chart, as an
/// Application names them.
fn helm_options(
    flags: &crate::cli::HelmFlags,
    located: &repository_root::Located,
) -> anyhow::Result<plumb_render::HelmOptions> {
    let root = located
        .root
        .canonicalize()
        .with_context(|| format!("cannot read {}", located.root.display()))?;
    let up = if located.path == "." {
        0
    } else {
        located.path.split('/').count()
    };
    let mut value_files = Vec::new();
    for file in &flags.values {
        let absolute = file
            .canonicalize()
            .with_context(|| format!("cannot read the values file {}", file.display()))?;
        let inside = absolute.strip_prefix(&root).map_err(|_| {
            anyhow::anyhow!(
                "the values file {} is outside the repository {}: plumb reads nothing outside it",
                file.display(),
                root.display()
            )
        })?;
        value_files.push(format!("{}{}", "../".repeat(up), inside.to_string_lossy()));
    }
    let mut parameters = Vec::new();
    for set in &flags.set {
        let (name, value) = set
            .split_once('=')
            .with_context(|| format!("--set {set:?}: expected NAME=VALUE"))?;
        parameters.push((name.to_owned(), value.to_owned()));
    }
    Ok(plumb_render::HelmOptions {
        release_name: flags.release_name.clone(),
        namespace: flags.release_namespace.clone(),
        value_files,
        parameters,
        skip_crds: flags.skip_crds,
        external: flags.helm_external.clone(),
        ..plumb_render::HelmOptions::default()
    })
}

/// The key in `file`: 32 bytes, or 64 hex digits (a trailing newline allowed).
fn random_key(file: &std::path::Path) -> anyhow::Result<plumb_render::RandomKey> {
    let bytes = std::fs::read(file)
        .with_context(|| format!("cannot read the Helm random key {}", file.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let hex = text.trim();
    let key: Option<[u8; 32]> = if bytes.len() == 32 {
        bytes.as_slice().try_into().ok()
    } else if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut key = [0u8; 32];
        for (n, byte) in key.iter_mut().enumerate() {
            // Two ASCII hex digits, checked above.
            *byte = u8::from_str_radix(&hex[2 * n..2 * n + 2], 16).unwrap_or_default();
        }
        Some(key)
    } else {
        None
    };
    key.map(plumb_render::RandomKey::new).with_context(|| {
        format!(
            "the Helm random key {} must hold 32 bytes or 64 hex digits",
            file.display()
        )
    })
}

/// Render options for commands that read overlays without a --recursive/--include choice.
pub(crate) fn render_options(keys: &crate::cli::Keys) -> anyhow::Result<RenderOptions> {
    Ok(RenderOptions {
        decryption: secrets::identities(keys)?,
        ..RenderOptions::default()
    })
}

/// A client for the cluster, found as kubectl finds it, and the namespace to default to.
pub(crate) async fn connect(target: &Target) -> anyhow::Result<(Client, String)> {
    let (client, namespace, _) = connect_to(target).await?;
    Ok((client, namespace))
}

/// [`connect`], and the API server's URL.
pub(crate) async fn connect_to(target: &Target) -> anyhow::Result<(Client, String, String)> {
    let config = cluster_config(target.kubeconfig.as_deref(), target.context.as_deref()).await?;
    let namespace = target
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let server = config.cluster_url.to_string();
    let client =
        plumb_engine::client::client(config).context("cannot build a Kubernetes client")?;
    Ok((client, namespace, server))
}

/// The cluster's configuration, found as kubectl finds it (in-cluster last).
pub(crate) async fn cluster_config(
    kubeconfig: Option<&std::path::Path>,
    context: Option<&str>,
) -> anyhow::Result<Config> {
    let options = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..KubeConfigOptions::default()
    };
    Ok(match kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            Config::from_custom_kubeconfig(kubeconfig, &options).await?
        }
        None if context.is_some() => Config::from_kubeconfig(&options).await?,
        None => Config::infer()
            .await
            .context("cannot find a cluster (set KUBECONFIG or --kubeconfig)")?,
    })
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
        create_namespaces: None,
        deleting_app: false,
    }
}
