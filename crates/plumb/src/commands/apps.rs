//! Operator commands on Applications: get, sync, history, rollback, suspend/resume, diff.
//! They read and patch the Application resource; the controller does the work.
#![allow(clippy::print_stdout, reason = "these commands print tables")]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use kube::api::{Api, Patch, PatchParams};
use plumb_controller::Application;
use plumb_controller::operations;

use crate::cli::{
    AppArgs, Format, GetAppArgs, GetCommand, ListArgs, RollbackArgs, SyncAppArgs, Target,
};
use crate::commands::app_row::{or_default_branch, or_unknown, state};
use crate::commands::detail_rows::short;
use crate::commands::follow::{Follower, Step};
use crate::commands::{app_row, app_watch, connect, detail_rows, table};
use crate::output;

pub(crate) async fn get(command: &GetCommand) -> anyhow::Result<ExitCode> {
    match command {
        GetCommand::Apps(args) => list(args).await,
        GetCommand::App(args) => show(args).await,
        GetCommand::Clusters(args) => super::clusters::list(args).await,
    }
}

async fn list(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let (client, namespace) = connect(&args.target).await?;
    let api: Api<Application> = if args.all_namespaces {
        Api::all(client)
    } else {
        Api::namespaced(client, &namespace)
    };
    if args.watch {
        return app_watch::run(api, None, args.output).await;
    }
    let apps = api
        .list(&Default::default())
        .await
        .context("cannot list Applications")?;
    if let Some(format) = args.output.machine() {
        return print_machine(&apps.items, format);
    }
    let wide = args.output.wide();
    let mut rows = vec![app_row::header(wide)];
    rows.extend(apps.items.iter().map(|app| app_row::row(app, wide)));
    print_table(&rows);
    Ok(ExitCode::SUCCESS)
}

async fn show(args: &GetAppArgs) -> anyhow::Result<ExitCode> {
    if args.watch {
        let (client, namespace) = connect(&args.app.target).await?;
        let api: Api<Application> = Api::namespaced(client, &namespace);
        return app_watch::run(api, Some(&args.app.name), args.app.output).await;
    }
    let (api, app) = fetch(&args.app).await?;
    drop(api);
    if let Some(format) = args.app.output.machine() {
        return print_machine(std::slice::from_ref(&app), format);
    }
    let status = app.status.clone().unwrap_or_default();
    let source = &app.spec.source;
    println!("Name:       {}", app.key());
    println!(
        "Source:     {} @ {} : {}",
        source.repo_url,
        or_default_branch(&source.revision),
        source.path
    );
    println!(
        "Sync:       {} at {}",
        state(&status.sync.status, app.spec.suspend),
        status.sync.revision.as_deref().unwrap_or("-")
    );
    println!(
        "Health:     {}{}",
        or_unknown(&status.health.status),
        status
            .health
            .message
            .as_deref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default()
    );
    if let Some(pin) = &status.pinned {
        println!(
            "Pinned:     {} by a rollback (unpin returns to {})",
            pin.revision, pin.from
        );
    }
    for condition in &status.conditions {
        println!(
            "Condition:  {}={} {}: {}",
            condition.type_, condition.status, condition.reason, condition.message
        );
    }
    if let Some(last) = status.history.first() {
        println!(
            "Last sync:  #{} {} {} ({}) {} — {}",
            last.id,
            last.result,
            short(&last.revision),
            last.trigger,
            last.finished_at,
            last.summary
        );
    }
    println!();
    print_table(&detail_rows::resources(
        &status.resources,
        args.app.output.wide(),
    ));
    if let Some(omitted) = status.resources_omitted {
        println!(
            "… and {omitted} more objects not listed in status (objects out of sync or unhealthy are listed before the others)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `plumb sync NAME`: sets the reconcile annotation and follows what the controller does
/// with that request (see [`follow`]) until the app is Synced and Healthy, or failed.
pub(crate) async fn sync(args: &SyncAppArgs) -> anyhow::Result<ExitCode> {
    request_and_follow(args, serde_json::json!({}), "sync of {} requested").await
}

/// `plumb resume NAME`: ends the suspension and asks for a sync in one patch, so the sync
/// that follows is the one requested, and follows it as `plumb sync` does.
pub(crate) async fn resume(args: &SyncAppArgs) -> anyhow::Result<ExitCode> {
    request_and_follow(
        args,
        operations::suspend(false),
        "{} resumed; sync requested",
    )
    .await
}

/// Sends `patch` together with a sync request, then follows that request.
async fn request_and_follow(
    args: &SyncAppArgs,
    mut patch: serde_json::Value,
    told: &str,
) -> anyhow::Result<ExitCode> {
    let (api, before) = fetch(&args.app).await?;
    let requested = operations::request_token();
    merge(&mut patch, operations::request_sync(&requested));
    api.patch(
        &args.app.name,
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .context("cannot request a sync")?;
    output::line(&told.replace("{}", &args.app.name));
    if args.no_wait {
        return Ok(ExitCode::SUCCESS);
    }
    let mut follower = Follower::new(&requested, &before);
    let deadline = Instant::now() + args.timeout;
    let mut handled = false;
    loop {
        let app = api
            .get(&args.app.name)
            .await
            .context("cannot read the Application")?;
        match follower.step(&app) {
            Step::Pending => {}
            Step::Going(lines) => {
                handled = true;
                lines.iter().for_each(|line| output::line(line));
            }
            Step::Done(lines) => {
                lines.iter().for_each(|line| output::line(line));
                return Ok(ExitCode::SUCCESS);
            }
            Step::Failed(lines, why) => {
                lines.iter().for_each(|line| output::line(line));
                bail!(why);
            }
        }
        if Instant::now() >= deadline {
            if handled {
                bail!(
                    "{} is not Synced and Healthy after {:?} (`plumb get app {}` shows where it stands)",
                    args.app.name,
                    args.timeout,
                    args.app.name
                );
            }
            bail!(
                "no controller handled the request in {:?}: is `plumb controller` running, watching \
                 this namespace? (the request stays; it is handled when one starts)",
                args.timeout
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

pub(crate) async fn history(args: &AppArgs) -> anyhow::Result<ExitCode> {
    let (_, app) = fetch(args).await?;
    let status = app.status.clone().unwrap_or_default();
    if let Some(format) = args.output.machine() {
        return print_value(&serde_json::to_value(&status.history)?, format);
    }
    print_table(&detail_rows::history(&status.history, args.output.wide()));
    Ok(ExitCode::SUCCESS)
}

/// `plumb rollback NAME REVISION` pins `spec.source.revision` to an earlier commit and
/// remembers where it was; `--unpin` goes back.
pub(crate) async fn rollback(args: &RollbackArgs) -> anyhow::Result<ExitCode> {
    let (api, app) = fetch(&args.app).await?;
    let patch = if args.unpin {
        operations::unpin(&app)
    } else {
        operations::rollback(&app, args.revision.as_deref().unwrap_or_default())
    }
    .map_err(|message| anyhow::anyhow!(message))?;
    api.patch(
        &args.app.name,
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .context("cannot update the Application")?;
    if args.unpin {
        output::line(&format!("{} unpinned: automation resumes", args.app.name));
    } else {
        output::line(&format!(
            "{} pinned to {}: it is applied once, then automation waits for `plumb rollback {} --unpin`",
            args.app.name,
            patch["spec"]["source"]["revision"]
                .as_str()
                .unwrap_or_default(),
            args.app.name
        ));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn suspend(args: &AppArgs) -> anyhow::Result<ExitCode> {
    let (api, _) = fetch(args).await?;
    let patch = operations::suspend(true);
    api.patch(&args.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .context("cannot update the Application")?;
    output::line(&format!(
        "{} suspended: drift is reported, nothing applied until `plumb resume {}`",
        args.name, args.name
    ));
    Ok(ExitCode::SUCCESS)
}

/// Merges the JSON object `extra` into `into`, key by key (as a merge patch would).
fn merge(into: &mut serde_json::Value, extra: serde_json::Value) {
    match (into, extra) {
        (serde_json::Value::Object(into), serde_json::Value::Object(extra)) => {
            for (key, value) in extra {
                merge(into.entry(key).or_insert(serde_json::Value::Null), value);
            }
        }
        (into, extra) => *into = extra,
    }
}

/// `plumb diff NAME`: the drift the controller last saw, per object. Exit 1 when out of sync.
pub(crate) async fn diff(name: &str, target: &Target, format: Format) -> anyhow::Result<ExitCode> {
    let (client, namespace) = connect(target).await?;
    let api: Api<Application> = Api::namespaced(client, &namespace);
    let app = api.get(name).await.with_context(|| {
        format!("no Application {namespace}/{name} (to diff a directory, pass --app)")
    })?;
    let status = app.status.clone().unwrap_or_default();
    let drifted: Vec<_> = status
        .resources
        .iter()
        .filter(|r| r.status == "OutOfSync")
        .collect();
    if format != Format::Human {
        print_value(&serde_json::to_value(&drifted)?, format)?;
    } else if drifted.is_empty() {
        output::line(&format!(
            "{name} is in sync with {}",
            status.sync.revision.as_deref().unwrap_or("Git")
        ));
    } else {
        for resource in &drifted {
            let who = resource
                .drift
                .as_ref()
                .map(|d| d.changed_by.join(", "))
                .filter(|s| !s.is_empty())
                .map(|s| format!(" (changed by {s})"))
                .unwrap_or_default();
            println!(
                "{} {}/{}{who}",
                resource.kind,
                resource.namespace.as_deref().unwrap_or("-"),
                resource.name
            );
            if let Some(drift) = &resource.drift {
                for line in drift.diff.lines() {
                    println!("    {line}");
                }
            } else {
                println!("    (not created yet)");
            }
        }
    }
    Ok(if drifted.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn fetch(args: &AppArgs) -> anyhow::Result<(Api<Application>, Application)> {
    let (client, namespace) = connect(&args.target).await?;
    let api: Api<Application> = Api::namespaced(client, &namespace);
    let app = api
        .get(&args.name)
        .await
        .with_context(|| format!("cannot read Application {namespace}/{}", args.name))?;
    Ok((api, app))
}

fn print_table(rows: &[Vec<String>]) {
    table::render(rows)
        .iter()
        .for_each(|line| output::line(line));
}

fn print_machine(apps: &[Application], format: Format) -> anyhow::Result<ExitCode> {
    print_value(&serde_json::to_value(apps)?, format)?;
    Ok(ExitCode::SUCCESS)
}

fn print_value(value: &serde_json::Value, format: Format) -> anyhow::Result<ExitCode> {
    match format {
        Format::Yaml => output::yaml_documents(std::iter::once(value.clone()))?,
        _ => println!("{}", serde_json::to_string_pretty(value)?),
    }
    Ok(ExitCode::SUCCESS)
}
