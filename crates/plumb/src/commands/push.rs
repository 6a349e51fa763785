//! What `plumb diff` and `plumb apply` start from: the directory rendered, and the cluster
//! as the app's last apply left it (its inventory, the sync cache kept beside it, and an
//! engine on the kept discovery).
//!
//! Rendering is work for the processor and the rest is waiting for the API server, so they
//! run at once. The reading includes the lists a plan needs, of the kinds and namespaces
//! the inventory holds: for an unchanged app of 1,000 objects, they are read by the time
//! the directory is rendered.

use anyhow::Context as _;
use kube::Client;
use plumb_engine::{AppId, CacheSnapshot, Engine, Inventory, Observed, inventory_config_map};
use plumb_render::Rendered;

use crate::cli::SyncArgs;
use crate::commands::kept_discovery::KeptDiscovery;
use crate::commands::{connect_to, plan_options, render_source};

/// The desired objects and the app's state in the cluster.
pub(crate) struct Session {
    pub(crate) rendered: Rendered,
    pub(crate) client: Client,
    pub(crate) namespace: String,
    /// The inventory of the last apply.
    pub(crate) previous: Inventory,
    /// The sync cache kept beside it, as read.
    pub(crate) kept: CacheSnapshot,
    /// An engine whose cache holds `kept`.
    pub(crate) engine: Engine,
    /// The app's live objects of the kinds and namespaces of `previous`.
    pub(crate) observed: Observed,
    pub(crate) discovery: KeptDiscovery,
}

/// Renders `args.source` while reading `app`'s state from the cluster `args.target` names.
pub(crate) async fn open(args: &SyncArgs, app: &AppId) -> anyhow::Result<Session> {
    let source = args.source.clone();
    let rendering = async {
        tokio::task::spawn_blocking(move || render_source(&source))
            .await
            .context("rendering stopped")?
    };
    let reading = async {
        let (client, namespace, server) = connect_to(&args.target).await?;
        let (previous, kept) =
            inventory_config_map::load_with_cache(&client, &namespace, app).await?;
        let discovery = KeptDiscovery::for_server(&server);
        let engine = discovery.engine(client.clone()).await?;
        // What the last apply found in sync: unchanged objects then need no dry-run.
        engine.restore_cache(&kept);
        let observed = engine
            .observe(app, &previous, &plan_options(args, &namespace))
            .await;
        anyhow::Ok((
            client, namespace, previous, kept, engine, observed, discovery,
        ))
    };
    let (rendered, (client, namespace, previous, kept, engine, observed, discovery)) =
        tokio::try_join!(rendering, reading)?;
    Ok(Session {
        rendered,
        client,
        namespace,
        previous,
        kept,
        engine,
        observed,
        discovery,
    })
}
