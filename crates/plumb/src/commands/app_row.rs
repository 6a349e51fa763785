//! One Application as a row of `plumb get apps` (and `-o wide`), and the part of it that
//! `--watch` reports changes of. Pure: tested with Applications built in memory.

use plumb_controller::Application;

/// The header of `plumb get apps`; `wide` adds where the app comes from and who it acts as.
pub(crate) fn header(wide: bool) -> Vec<String> {
    let mut cells = vec![
        "NAMESPACE",
        "NAME",
        "SYNC",
        "HEALTH",
        "REVISION",
        "LAST SYNC",
    ];
    if wide {
        cells.extend(["REPO", "PATH", "TARGET", "SERVICE ACCOUNT"]);
    }
    cells.push("MESSAGE");
    cells.into_iter().map(str::to_owned).collect()
}

/// The row of one Application, with the columns of [`header`].
pub(crate) fn row(app: &Application, wide: bool) -> Vec<String> {
    let status = app.status.clone().unwrap_or_default();
    let last = status.history.first();
    let mut cells = vec![
        app.metadata.namespace.clone().unwrap_or_default(),
        app.metadata.name.clone().unwrap_or_default(),
        state(&status.sync.status, app.spec.suspend),
        or_unknown(&status.health.status),
        status.sync.short_revision.clone().unwrap_or_default(),
        last.map(|r| format!("{} {}", r.result, r.finished_at))
            .unwrap_or_default(),
    ];
    if wide {
        let source = &app.spec.source;
        cells.extend([
            plumb_source::redact_url(&source.repo_url),
            source.path.clone(),
            or_default_branch(&source.revision).to_owned(),
            app.spec
                .destination
                .service_account_name
                .clone()
                .unwrap_or_else(|| "(default)".to_owned()),
        ]);
    }
    cells.push(
        app.condition("Ready")
            .map(|c| c.message.clone())
            .unwrap_or_default(),
    );
    cells
}

/// What `--watch` prints a new line for when it changes: the sync status (suspension
/// included), health, revision and the Ready condition. Status writes that change none of
/// them (a resource's drift timestamp, say) print nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Watched {
    sync: String,
    health: String,
    revision: Option<String>,
    ready: Option<(String, String, String)>,
}

impl Watched {
    pub(crate) fn of(app: &Application) -> Watched {
        let status = app.status.clone().unwrap_or_default();
        Watched {
            sync: state(&status.sync.status, app.spec.suspend),
            health: status.health.status,
            revision: status.sync.revision,
            ready: app
                .condition("Ready")
                .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone())),
        }
    }
}

/// The sync status, marked when the app is suspended.
pub(crate) fn state(sync: &str, suspended: bool) -> String {
    let sync = or_unknown(sync);
    if suspended {
        format!("{sync} (suspended)")
    } else {
        sync
    }
}

pub(crate) fn or_unknown(text: &str) -> String {
    if text.is_empty() {
        "Unknown".into()
    } else {
        text.to_owned()
    }
}

pub(crate) fn or_default_branch(revision: &str) -> &str {
    if revision.is_empty() {
        "HEAD"
    } else {
        revision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(status: serde_json::Value) -> Application {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "plumb.dev/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "web", "namespace": "prod"},
            "spec": {
                "source": {
                    "repoURL": "https://robot:s3cret@git.example.com/deploy.git",
                    "path": "envs/prod",
                },
                "destination": {"serviceAccountName": "deployer"},
            },
            "status": status,
        }))
        .unwrap()
    }

    fn synced() -> serde_json::Value {
        serde_json::json!({
            "sync": {"status": "Synced", "revision": "0123456789abcdef", "shortRevision": "0123456"},
            "health": {"status": "Healthy"},
            "conditions": [{
                "type": "Ready", "status": "True", "reason": "Synced",
                "message": "applied 0123456", "lastTransitionTime": "2026-01-01T00:00:00Z",
            }],
        })
    }

    #[test]
    fn a_row_has_a_cell_per_column() {
        let app = app(synced());
        for wide in [false, true] {
            assert_eq!(row(&app, wide).len(), header(wide).len());
        }
        assert_eq!(
            row(&app, false),
            [
                "prod",
                "web",
                "Synced",
                "Healthy",
                "0123456",
                "",
                "applied 0123456"
            ]
        );
    }

    #[test]
    fn wide_rows_tell_where_the_app_comes_from_without_credentials() {
        let cells = row(&app(synced()), true);
        let column = |name: &str| {
            let at = header(true).iter().position(|h| h == name).unwrap();
            cells[at].clone()
        };
        assert!(!column("REPO").contains("s3cret"), "{cells:?}");
        assert!(
            column("REPO").contains("git.example.com/deploy.git"),
            "{cells:?}"
        );
        assert_eq!(column("PATH"), "envs/prod");
        assert_eq!(column("TARGET"), "HEAD");
        assert_eq!(column("SERVICE ACCOUNT"), "deployer");
        assert_eq!(header(true).last().unwrap(), "MESSAGE");
    }

    #[test]
    fn an_app_without_status_is_unknown() {
        let cells = row(&app(serde_json::Value::Null), false);
        assert_eq!(cells[2..4], ["Unknown", "Unknown"]);
    }

    #[test]
    fn watch_sees_suspension_health_revision_and_ready_but_not_other_status() {
        let before = app(synced());
        let mut suspended = before.clone();
        suspended.spec.suspend = true;
        assert_ne!(Watched::of(&before), Watched::of(&suspended));
        assert_eq!(row(&suspended, false)[2], "Synced (suspended)");

        let mut degraded = synced();
        degraded["health"]["status"] = "Degraded".into();
        assert_ne!(Watched::of(&before), Watched::of(&app(degraded)));

        let mut moved = synced();
        moved["sync"]["revision"] = "fedcba9876543210".into();
        assert_ne!(Watched::of(&before), Watched::of(&app(moved)));

        let mut not_ready = synced();
        not_ready["conditions"][0]["status"] = "False".into();
        assert_ne!(Watched::of(&before), Watched::of(&app(not_ready)));

        let mut other = synced();
        other["observedGeneration"] = 7.into();
        other["resources"] = serde_json::json!([{
            "group": "", "version": "v1", "kind": "ConfigMap", "name": "a", "status": "Synced",
        }]);
        assert_eq!(Watched::of(&before), Watched::of(&app(other)));
    }
}
