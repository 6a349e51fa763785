//! What `plumb diff` and `plumb apply` start from: the directory rendered and resolved, and
//! the cluster as the app's last apply left it (its inventory, the sync cache kept beside
//! it, and an engine on the kept discovery).
//!
//! Rendering and resolving are work for the processor and the rest is waiting for the API
//! server, so they run at once, on separate tasks. The reading includes the lists a plan
//! needs, of the kinds and namespaces the inventory holds: for an unchanged app of 1,000
//! objects, what is left for the plan itself is to look up its verdicts.

use std::sync::Arc;

use anyhow::Context as _;
use kube::Client;
use plumb_engine::inventory_config_map;
use plumb_engine::{AppId, CacheSnapshot, Engine, Inventory, Observed, Resolved};
use plumb_render::Rendered;

use crate::cli::SyncArgs;
use crate::commands::kept_discovery::KeptDiscovery;
use crate::commands::{connect_to, plan_options, render_source};

/// The desired objects and the app's state in the cluster.
pub(crate) struct Session {
    pub(crate) rendered: Rendered,
    /// `rendered`, resolved for the app.
    pub(crate) resolved: Resolved,
    pub(crate) client: Client,
    pub(crate) namespace: String,
    /// The inventory of the last apply.
    pub(crate) previous: Inventory,
    /// The sync cache kept beside it, as read.
    pub(crate) kept: CacheSnapshot,
    /// An engine whose cache holds `kept`.
    pub(crate) engine: Arc<Engine>,
    /// The app's live objects of the kinds and namespaces of `previous`.
    pub(crate) observed: Observed,
    pub(crate) discovery: KeptDiscovery,
}

/// Renders and resolves `args.source` while reading `app`'s state from the cluster
/// `args.target` names.
pub(crate) async fn open(args: &SyncArgs, app: &AppId) -> anyhow::Result<Session> {
    let source = args.source.clone();
    // Rendering needs no cluster: it starts before the connection.
    let rendering = tokio::task::spawn_blocking(move || render_source(&source));
    let (client, namespace, server) = connect_to(&args.target).await?;
    let options = plan_options(args, &namespace);
    let discovery = KeptDiscovery::for_server(&server);
    let (engine, (previous, kept)) = tokio::try_join!(discovery.engine(client.clone()), async {
        Ok(inventory_config_map::load_with_cache(&client, &namespace, app).await?)
    },)?;
    let engine = Arc::new(engine);
    let resolving = tokio::spawn({
        let (engine, app, options) = (engine.clone(), app.clone(), options.clone());
        async move {
            let rendered = rendering.await.context("rendering stopped")??;
            let resolved = engine.resolve(&app, &rendered.objects, &options).await?;
            anyhow::Ok((rendered, resolved))
        }
    });
    let reading = async {
        // What the last apply found in sync: unchanged objects then need no dry-run.
        engine.restore_cache(&kept);
        anyhow::Ok(engine.observe(app, &previous, &options).await)
    };
    // A directory that does not render is reported at once, not after the lists.
    let (observed, (rendered, resolved)) = tokio::try_join!(reading, async {
        resolving.await.context("resolving stopped")?
    })?;
    Ok(Session {
        rendered,
        resolved,
        client,
        namespace,
        previous,
        kept,
        engine,
        observed,
        discovery,
    })
}
