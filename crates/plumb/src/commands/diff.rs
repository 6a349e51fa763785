//! `plumb diff`: what applying a directory would change — exit 0 in sync, 1 differences.

use std::process::ExitCode;

use plumb_engine::{AppId, inventory_config_map};

use crate::cli::SyncArgs;
use crate::commands::kept_discovery::KeptDiscovery;
use crate::commands::{connect_to, plan_options, render_source};
use crate::output;

pub(crate) async fn run(args: &SyncArgs) -> anyhow::Result<ExitCode> {
    let Some(name) = &args.app else {
        // `plumb diff NAME`: an Application's drift, as its controller last saw it.
        return super::apps::diff(&args.source.path, &args.target, args.output).await;
    };
    let rendered = render_source(&args.source)?;
    let (client, namespace, server) = connect_to(&args.target).await?;
    let app = AppId::new(name);
    let (previous, kept) = inventory_config_map::load_with_cache(&client, &namespace, &app).await?;
    let discovery = KeptDiscovery::for_server(&server);
    let engine = discovery.engine(client.clone()).await?;
    engine.restore_cache(&kept);
    let plan = engine
        .plan(
            &app,
            &rendered.objects,
            &previous,
            &plan_options(args, &namespace),
        )
        .await?;
    discovery.keep(&engine).await;
    output::plan(&plan, args.output)?;
    Ok(if plan.is_in_sync() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
