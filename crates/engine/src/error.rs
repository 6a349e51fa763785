//! The one error type of the engine: what made a plan, apply or prune fail, naming the
//! object and, where a person can act, saying how.

use std::time::Duration;

/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cluster serves no such kind, and no CRD in the set defines it.
    #[error(
        "{object}: the cluster does not serve {api_version} {kind}; install its CustomResourceDefinition (or add it to the same set) first"
    )]
    UnknownKind {
        /// The object, as `Kind.group namespace/name`.
        object: String,
        /// Its apiVersion.
        api_version: String,
        /// Its kind.
        kind: String,
    },
    /// A cluster-scoped object names a namespace, or a namespaced one has none to default to.
    #[error("{object}: {detail}")]
    Scope {
        /// The object.
        object: String,
        /// What is wrong.
        detail: String,
    },
    /// Discovery of the served API failed.
    #[error("cannot discover the cluster's API: {0}")]
    Discovery(#[source] kube::Error),
    /// A discovery root (`/api`, `/apis`) answered with something that is not discovery.
    #[error(
        "cannot discover the cluster's API: {path} answered {detail}; is this a Kubernetes API server?"
    )]
    DiscoveryDocument {
        /// The root asked.
        path: String,
        /// What was wrong with the answer.
        detail: String,
    },
    /// The API server rejected an object (found by the dry-run, before anything is written).
    #[error("{object} is invalid: {message}")]
    Invalid {
        /// The object.
        object: String,
        /// The API server's message.
        message: String,
    },
    /// Another field manager owns fields plumb wants to set, and forcing is off.
    #[error(
        "{object}: conflict with field manager(s) {managers}: {message} (force conflicts, or stop setting those fields)"
    )]
    Conflict {
        /// The object.
        object: String,
        /// The competing managers, comma-separated.
        managers: String,
        /// The API server's message.
        message: String,
    },
    /// A change to an immutable field, and the object does not opt in to recreation.
    #[error(
        "{object}: {message} (the field is immutable: annotate the object with plumb.dev/recreate: enabled to let plumb delete and recreate it)"
    )]
    Immutable {
        /// The object.
        object: String,
        /// The API server's message.
        message: String,
    },
    /// A request for one object failed.
    #[error("{action} {object}: {}", describe(source))]
    Request {
        /// What was being done: `apply`, `get`, `delete`, …
        action: &'static str,
        /// The object.
        object: String,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
    /// The render produced no objects and emptiness was not allowed: nothing is pruned.
    #[error(
        "the desired set is empty: refusing to prune {inventory} object(s); allow an empty set explicitly if that is intended"
    )]
    EmptySet {
        /// How many objects the previous inventory holds.
        inventory: usize,
    },
    /// The inventory could not be read or stored.
    #[error("inventory {name}: {detail}")]
    Inventory {
        /// The inventory's name.
        name: String,
        /// What failed.
        detail: String,
    },
    /// An object in a namespace, or of a kind, this sync creates was refused by its
    /// dry-run; what was created to validate it was deleted again.
    #[error(
        "{first}{}; found by a dry-run once {created} existed: {}",
        more_refused(*refused),
        cleaned_up(left)
    )]
    RefusedAhead {
        /// The first refusal, naming its object.
        first: String,
        /// How many objects were refused.
        refused: usize,
        /// What was created to validate them (`Namespace a, CustomResourceDefinition b`).
        created: String,
        /// What could not be deleted again, with why (empty: nothing).
        left: String,
    },
    /// A sync stopped after an object failed to apply; later groups were not attempted.
    #[error("stopped after a failed apply: {first_failure}")]
    Stopped {
        /// The first failure, naming its object.
        first_failure: String,
    },
    /// A sync hook failed, or did not finish in time; the sync stopped there.
    #[error("{phase} hook {object} failed: {detail}")]
    HookFailed {
        /// Its phase.
        phase: String,
        /// The hook instance.
        object: String,
        /// What happened.
        detail: String,
    },
    /// Waiting for health or readiness ran out of time.
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout {
        /// What was waited for.
        what: String,
        /// How long.
        waited: Duration,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Classifies an API error from a write (or dry-run) of `object`. For a `sensitive`
    /// object (a Secret, a decrypted one) every quoted value in the API server's message is
    /// masked: it may quote the value it refused (`Invalid value: "hunter2"`), and the
    /// message travels on into status, Events, notifications and logs.
    pub(crate) fn from_write(object: &str, sensitive: bool, err: kube::Error) -> Error {
        let kube::Error::Api(status) = &err else {
            return Error::Request {
                action: "apply",
                object: object.to_owned(),
                source: err,
            };
        };
        let message = if sensitive {
            mask_quoted(&status.message)
        } else {
            status.message.clone()
        };
        match status.code {
            409 if status.reason == "Conflict" => Error::Conflict {
                object: object.to_owned(),
                managers: conflicting_managers(&message),
                message,
            },
            422 if message.contains("immutable") || message.contains("cannot change") => {
                Error::Immutable {
                    object: object.to_owned(),
                    message,
                }
            }
            // Kubernetes 1.20 answers a patch that does not fit the schema with a 500.
            500 if message.starts_with("failed to create typed patch object") => Error::Invalid {
                object: object.to_owned(),
                message,
            },
            400 | 404 | 422 => Error::Invalid {
                object: object.to_owned(),
                message,
            },
            _ if sensitive => Error::Invalid {
                object: object.to_owned(),
                message: format!("{message} ({}, {})", status.reason, status.code),
            },
            _ => Error::Request {
                action: "apply",
                object: object.to_owned(),
                source: err,
            },
        }
    }
}

/// A client error as a person reads it: the API server's message with its reason and code,
/// not the debug form of its whole Status.
fn describe(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => {
            format!("{} ({}, {})", status.message, status.reason, status.code)
        }
        other => other.to_string(),
    }
}

/// Replaces every double-quoted part of `message` by `"*****"`.
fn mask_quoted(message: &str) -> String {
    let mut masked = String::with_capacity(message.len());
    let mut parts = message.split('"');
    if let Some(first) = parts.next() {
        masked.push_str(first);
    }
    for (index, part) in parts.enumerate() {
        masked.push('"');
        masked.push_str(if index % 2 == 0 { "*****" } else { part });
    }
    masked
}

/// Pulls the manager names out of an apply conflict message:
/// `conflict with "kubectl-edit" using apps/v1: .spec.replicas`.
fn conflicting_managers(message: &str) -> String {
    let mut managers: Vec<&str> = message
        .split("conflict with \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    managers.sort_unstable();
    managers.dedup();
    managers.join(", ")
}

fn more_refused(refused: usize) -> String {
    match refused {
        0 | 1 => String::new(),
        n => format!(" (and {} more objects refused)", n - 1),
    }
}

fn cleaned_up(left: &str) -> String {
    if left.is_empty() {
        "they were deleted again, and nothing else of this sync was written".to_owned()
    } else {
        format!(
            "deleting them again failed for {left} (delete them by hand); nothing else of this sync was written"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_messages_yield_the_competing_managers() {
        let message = "Apply failed with 2 conflicts: conflict with \"kubectl-edit\" using apps/v1: \
                       .spec.replicas\nconflict with \"hpa\" using apps/v1: .spec.replicas";
        assert_eq!(conflicting_managers(message), "hpa, kubectl-edit");
    }

    #[test]
    fn a_sensitive_objects_refusal_quotes_no_value() {
        let status = kube::core::Status {
            status: None,
            code: 422,
            message: r#"Secret "db" is invalid: data[password]: Invalid value: "hunter2": a valid config key"#.into(),
            metadata: None,
            reason: "Invalid".into(),
            details: None,
        };
        let err = Error::from_write(
            "Secret ns/db",
            true,
            kube::Error::Api(Box::new(status.clone())),
        );
        let shown = err.to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("data[password]: Invalid value"), "{shown}");
        let plain = Error::from_write("ConfigMap ns/db", false, kube::Error::Api(Box::new(status)));
        assert!(plain.to_string().contains("hunter2"));
    }

    #[test]
    fn a_refusal_reads_as_the_servers_message_not_a_debug_dump() {
        let status = kube::core::Status {
            status: None,
            code: 403,
            message: "namespaces \"x\" is forbidden".into(),
            metadata: None,
            reason: "Forbidden".into(),
            details: None,
        };
        let err = Error::Request {
            action: "get",
            object: "Namespace x".into(),
            source: kube::Error::Api(Box::new(status)),
        };
        assert_eq!(
            err.to_string(),
            "get Namespace x: namespaces \"x\" is forbidden (Forbidden, 403)"
        );
    }
}
