//! `plumb get apps -w` and `plumb get app NAME -w`: the table, then a row each time an
//! Application's sync status, health, revision or Ready condition changes (as `kubectl get
//! -w`), until interrupted. Built on kube's watcher, which lists, then watches, and lists
//! again after a broken watch; only real changes of what [`Watched`] holds are printed, so a
//! relist or a status write about something else prints nothing.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use futures::StreamExt as _;
use kube::api::Api;
use kube::runtime::WatchStreamExt as _;
use kube::runtime::watcher::{self, Event};
use plumb_controller::Application;

use crate::cli::{Format, ReadOutput};
use crate::commands::app_row::{self, Watched};
use crate::commands::table::Table;
use crate::output;

/// Watches the Applications of `api` (only `name`, when given) and prints until interrupted.
pub(crate) async fn run(
    api: Api<Application>,
    name: Option<&str>,
    format: ReadOutput,
) -> anyhow::Result<ExitCode> {
    match watch(api, name, format).await {
        Err(err) if reader_left(&err) => Ok(ExitCode::SUCCESS),
        other => other,
    }
}

/// Whether printing failed because the reader of stdout went away (`| head`): the end of
/// the watch the reader asked for.
fn reader_left(err: &anyhow::Error) -> bool {
    err.downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

async fn watch(
    api: Api<Application>,
    name: Option<&str>,
    format: ReadOutput,
) -> anyhow::Result<ExitCode> {
    let mut config = watcher::Config::default();
    if let Some(name) = name {
        config = config.fields(&format!("metadata.name={name}"));
    }
    let mut events = std::pin::pin!(watcher::watcher(api, config).default_backoff());
    let mut printer = Printer::new(format);
    let mut listing: Vec<Application> = Vec::new();
    let mut listed = false;
    while let Some(event) = events.next().await {
        let event = match event {
            Ok(event) => event,
            Err(err) if !listed => {
                return Err(err).context(
                    "cannot watch Applications (is the Application CRD installed — `plumb install \
                     --crds-only --apply` — and may you list and watch them?)",
                );
            }
            Err(err) => {
                output::warn(&format!("watch of Applications broken, resuming: {err}"));
                continue;
            }
        };
        match event {
            Event::Init => listing.clear(),
            Event::InitApply(app) if !listed => listing.push(app),
            Event::InitApply(app) | Event::Apply(app) => printer.changed(&app, false)?,
            Event::InitDone if !listed => {
                if let (Some(name), true) = (name, listing.is_empty()) {
                    bail!(
                        "no Application {name} in this namespace (`plumb get apps -A` lists them all; -n chooses the namespace)"
                    );
                }
                listed = true;
                printer.first(&listing)?;
                listing.clear();
            }
            Event::InitDone => {}
            Event::Delete(app) => printer.changed(&app, true)?,
        }
    }
    bail!("the watch of Applications ended")
}

/// Prints the first table and the rows after it, remembering what each app last showed.
struct Printer {
    format: ReadOutput,
    table: Table,
    shown: HashMap<(Option<String>, Option<String>), Watched>,
}

impl Printer {
    fn new(format: ReadOutput) -> Printer {
        Printer {
            format,
            table: Table::default(),
            shown: HashMap::new(),
        }
    }

    fn first(&mut self, apps: &[Application]) -> anyhow::Result<()> {
        let mut rows = vec![app_row::header(self.format.wide())];
        for app in apps {
            self.shown.insert(key(app), Watched::of(app));
            rows.push(app_row::row(app, self.format.wide()));
        }
        if self.format.machine().is_some() {
            return apps.iter().try_for_each(|app| self.object(app));
        }
        self.table = Table::fitting(&rows);
        self.print(&rows)
    }

    fn changed(&mut self, app: &Application, deleted: bool) -> anyhow::Result<()> {
        let now = Watched::of(app);
        if deleted {
            self.shown.remove(&key(app));
        } else if self.shown.insert(key(app), now.clone()).as_ref() == Some(&now) {
            return Ok(());
        }
        if self.format.machine().is_some() {
            return self.object(app);
        }
        let mut row = app_row::row(app, self.format.wide());
        if deleted && let Some(message) = row.last_mut() {
            *message = "(deleted)".to_owned();
        }
        self.print(&[row])
    }

    fn print(&mut self, rows: &[Vec<String>]) -> anyhow::Result<()> {
        for line in self.table.lines(rows) {
            output::stream_line(&line)?;
        }
        Ok(())
    }

    fn object(&self, app: &Application) -> anyhow::Result<()> {
        let text = match self.format.machine() {
            Some(Format::Yaml) => format!(
                "---\n{}",
                serde_saphyr::to_string(app).context("cannot print an Application as YAML")?
            ),
            _ => serde_json::to_string_pretty(app).context("cannot print an Application")?,
        };
        Ok(output::stream_line(text.trim_end())?)
    }
}

fn key(app: &Application) -> (Option<String>, Option<String>) {
    (app.metadata.namespace.clone(), app.metadata.name.clone())
}
