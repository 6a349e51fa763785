//! `plumb diff`: what applying a directory would change — exit 0 in sync, 1 differences.

use std::process::ExitCode;

use plumb_engine::AppId;

use crate::cli::SyncArgs;
use crate::commands::{leave_to_exit, push};
use crate::output;

pub(crate) async fn run(args: &SyncArgs) -> anyhow::Result<ExitCode> {
    let Some(name) = &args.app else {
        // `plumb diff NAME`: an Application's drift, as its controller last saw it.
        return super::apps::diff(&args.source.path, &args.target, args.output).await;
    };
    let app = AppId::new(name);
    let push::Session {
        rendered,
        resolved,
        previous,
        engine,
        observed,
        discovery,
        ..
    } = push::open(args, &app).await?;
    let plan = engine.plan_resolved(resolved, &previous, observed).await?;
    discovery.keep(&engine).await;
    output::plan(&plan, args.output)?;
    let code = if plan.is_in_sync() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    leave_to_exit((rendered, plan, engine));
    Ok(code)
}
