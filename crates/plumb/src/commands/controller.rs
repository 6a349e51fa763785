//! `plumb controller`: the in-cluster agent (or run beside a cluster from a kubeconfig).

use std::process::ExitCode;

use anyhow::Context as _;
use plumb_controller::{ControllerConfig, OutboundPolicy, Tenancy};

use crate::cli::ControllerArgs;
use crate::commands::cluster_config;

pub(crate) async fn run(args: &ControllerArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let config = cluster_config(
        args.cluster.kubeconfig.as_deref(),
        args.cluster.context.as_deref(),
    )
    .await?;
    let identity = std::env::var("POD_NAME")
        .unwrap_or_else(|_| format!("{}-{}", hostname(), std::process::id()));
    let lease_namespace = args
        .lease_namespace
        .clone()
        .or_else(|| std::env::var("POD_NAMESPACE").ok())
        .unwrap_or_else(|| "plumb-system".to_owned());
    // The controller's own namespace: the Lease's, and the webhook Secret's.
    let settings_namespace = lease_namespace.clone();
    let settings = ControllerConfig {
        namespace: args.watch_namespace.clone(),
        controller_namespace: settings_namespace.clone(),
        cache_dir: args.cache_dir.clone(),
        concurrency: args.concurrency,
        leader_election: (args.leader_election || args.shard)
            .then(|| (lease_namespace, args.lease_name.clone(), identity)),
        sharding: args.shard,
        allow_local_repositories: args.allow_local_repositories,
        source_hosts: plumb_source::SourceHosts::allowing(
            &args.allowed_source_hosts,
            args.allow_plain_text_sources,
        )
        .map_err(anyhow::Error::msg)?,
        wave_timeout: args.wave_timeout,
        reconcile_timeout: args.reconcile_timeout,
        git_timeout: args.git_timeout,
        request_timeout: args.request_timeout,
        kustomize: args.kustomize.options(),
        helm_external: args.helm_external.clone(),
        tenancy: Tenancy {
            admin_namespaces: if args.admin_namespaces.is_empty() {
                vec![settings_namespace.clone()]
            } else {
                args.admin_namespaces.clone()
            },
            default_service_account: Some(args.default_service_account.clone())
                .filter(|name| !name.is_empty()),
        },
        notification_targets: OutboundPolicy {
            allow_loopback: args.allow_loopback_notification_targets,
        },
    };
    let admin_namespaces = settings.tenancy.admin_namespaces.clone();
    let server = async {
        if args.server.no_server {
            return std::future::pending().await;
        }
        let client = plumb_engine::client::client(config.clone())
            .context("cannot build a Kubernetes client for the server")?;
        let server_config = plumb_server::ServerConfig {
            listen: args.server.listen,
            namespace: settings_namespace.clone(),
            webhook_secret: args.server.webhook_secret.clone(),
            watch_namespace: args.watch_namespace.clone(),
            admin_namespaces: admin_namespaces.clone(),
            anonymous: args.server.allow_anonymous,
            token_audience: Some(args.server.token_audience.clone()).filter(|a| !a.is_empty()),
            tls: args
                .server
                .tls_cert_file
                .clone()
                .zip(args.server.tls_private_key_file.clone())
                .map(|(certificate, private_key)| plumb_server::tls::TlsFiles {
                    certificate,
                    private_key,
                }),
        };
        plumb_server::serve(client, server_config)
            .await
            .context("the server stopped")
    };
    // A signal stops the controller, which then leaves its shard group, if any.
    let stop = async {
        if let Err(err) = shutdown().await {
            // Signals cannot be watched: run until killed.
            tracing::warn!("{err:#}");
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down");
    };
    tokio::select! {
        result = plumb_controller::run_until(config.clone(), settings, stop) => result.context("the controller stopped")?,
        result = server => result?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "plumb".to_owned())
}

/// Logs to stderr; `RUST_LOG` filters (default: info for plumb, warn for the rest).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,plumb=info,plumb_controller=info")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
