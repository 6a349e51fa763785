//! The tables of `plumb get app NAME` (its resources) and `plumb history NAME` (its syncs),
//! with the extra columns of `-o wide`. Pure: tested with statuses built in memory.

use plumb_controller::application::{ResourceStatus, SyncRecord};

/// The resources of an Application: kind, name, sync, health, drift; `wide` adds the API
/// version, the health message and since when a drift is seen.
pub(crate) fn resources(resources: &[ResourceStatus], wide: bool) -> Vec<Vec<String>> {
    let mut header = vec!["KIND", "NAMESPACE", "NAME", "SYNC", "HEALTH", "DRIFT"];
    if wide {
        header.extend(["VERSION", "HEALTH MESSAGE", "DRIFT SINCE"]);
    }
    let mut rows = vec![cells(&header)];
    for resource in resources {
        let drift = resource
            .drift
            .as_ref()
            .map(|d| match d.changed_by.as_slice() {
                [] => format!("{} by an unrecorded writer", d.fields.join(",")),
                managers => format!("{} by {}", d.fields.join(","), managers.join(",")),
            })
            .unwrap_or_default();
        let mut row = vec![
            if resource.group.is_empty() {
                resource.kind.clone()
            } else {
                format!("{}.{}", resource.kind, resource.group)
            },
            resource.namespace.clone().unwrap_or_default(),
            resource.name.clone(),
            resource.status.clone(),
            resource.health.clone().unwrap_or_default(),
            drift,
        ];
        if wide {
            row.extend([
                resource.version.clone(),
                resource.health_message.clone().unwrap_or_default(),
                resource
                    .drift
                    .as_ref()
                    .map(|d| d.detected_at.clone())
                    .unwrap_or_default(),
            ]);
        }
        rows.push(row);
    }
    rows
}

/// The sync history, newest first; `wide` shows the whole commit id and when each started.
pub(crate) fn history(records: &[SyncRecord], wide: bool) -> Vec<Vec<String>> {
    let mut header = vec!["ID", "REVISION", "RESULT", "TRIGGER"];
    if wide {
        header.push("STARTED");
    }
    header.extend(["FINISHED", "AUTHOR", "MESSAGE", "CHANGES"]);
    let mut rows = vec![cells(&header)];
    for record in records {
        let mut row = vec![
            record.id.to_string(),
            if wide {
                record.revision.clone()
            } else {
                short(&record.revision).to_owned()
            },
            record.result.clone(),
            record.trigger.clone(),
        ];
        if wide {
            row.push(record.started_at.clone());
        }
        row.extend([
            record.finished_at.clone(),
            record.author.clone(),
            record.message.clone(),
            record.summary.clone(),
        ]);
        rows.push(row);
    }
    rows
}

/// A commit id as people read it (seven characters).
pub(crate) fn short(revision: &str) -> &str {
    &revision[..revision.len().min(7)]
}

fn cells(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> SyncRecord {
        serde_json::from_value(serde_json::json!({
            "id": 3, "revision": "0123456789abcdef0123456789abcdef01234567",
            "author": "Alice", "message": "bump", "trigger": "Commit",
            "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:00:02Z",
            "result": "Succeeded", "summary": "1 configured",
        }))
        .unwrap()
    }

    fn drifted() -> ResourceStatus {
        serde_json::from_value(serde_json::json!({
            "group": "apps", "version": "v1", "kind": "Deployment", "namespace": "prod",
            "name": "web", "status": "OutOfSync", "health": "Progressing",
            "healthMessage": "1 of 2 replicas ready",
            "drift": {"fields": ["spec.replicas"], "changedBy": ["kubectl-scale"],
                      "diff": "-2\n+1", "detectedAt": "2026-01-01T00:00:05Z"},
        }))
        .unwrap()
    }

    #[test]
    fn history_wide_shows_the_whole_commit_and_when_it_started() {
        let narrow = history(&[record()], false);
        let wide = history(&[record()], true);
        assert_eq!(narrow[1][1], "0123456");
        assert_eq!(wide[1][1], "0123456789abcdef0123456789abcdef01234567");
        let started = wide[0].iter().position(|h| h == "STARTED").unwrap();
        assert_eq!(wide[1][started], "2026-01-01T00:00:00Z");
        assert!(!narrow[0].contains(&"STARTED".to_owned()));
        for rows in [narrow, wide] {
            assert_eq!(rows[0].len(), rows[1].len());
        }
    }

    #[test]
    fn resources_wide_add_version_health_message_and_drift_time() {
        let narrow = resources(&[drifted()], false);
        assert_eq!(
            narrow[1],
            [
                "Deployment.apps",
                "prod",
                "web",
                "OutOfSync",
                "Progressing",
                "spec.replicas by kubectl-scale"
            ]
        );
        let wide = resources(&[drifted()], true);
        assert_eq!(wide[0].len(), wide[1].len());
        assert_eq!(
            wide[1][6..],
            ["v1", "1 of 2 replicas ready", "2026-01-01T00:00:05Z"]
        );
    }
}
