//! Name references: after objects were renamed (prefix, suffix, content hash), every
//! field that names one of them — a Deployment's ConfigMap volume, a RoleBinding's
//! subjects, an HPA's target, … — is pointed at the new name. Candidates are picked as
//! Kustomize picks them: by previous name, kind, namespace and, when several remain, by
//! shared prefixes and suffixes.

use std::collections::HashMap;

use serde_json::Value;

mod defaults;

use super::BuildError;
use super::configurations::{NameReference, merged};
use super::fieldspec::{self, FieldSpec, gvk_selects};
use super::resource::{ResId, Resource};
use defaults::{Reference, references};

/// What selection needs to know of each object; names do not change while references
/// are fixed, so it is computed once.
struct Snapshot {
    id: ResId,
    previous: Vec<ResId>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    subjects_namespaces: Vec<String>,
}

impl Snapshot {
    fn of(resource: &Resource) -> Self {
        let subjects_namespaces = match resource.object.get("subjects") {
            Some(Value::Array(subjects)) if resource.kind() == "RoleBinding" => subjects
                .iter()
                .filter_map(|s| {
                    s.get("namespace")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect(),
            _ => Vec::new(),
        };
        Snapshot {
            id: resource.cur_id(),
            previous: resource.prev_ids(),
            prefixes: resource.prefixes.clone(),
            suffixes: resource.suffixes.clone(),
            subjects_namespaces,
        }
    }

    fn org_id(&self) -> &ResId {
        self.previous.first().unwrap_or(&self.id)
    }
}

/// Fixes every name reference in `resources`, through Kustomize's default references and
/// those `configurations` declared (`extra`).
pub(crate) fn fix(resources: &mut [Resource], extra: &[NameReference]) -> Result<(), BuildError> {
    let mut references = references();
    for reference in extra {
        match references.iter_mut().find(|r| r.target == reference.target) {
            Some(found) => {
                found.referrers =
                    merged(std::mem::take(&mut found.referrers), &reference.referrers);
            }
            None => references.push(Reference {
                target: reference.target.clone(),
                referrers: reference.referrers.clone(),
            }),
        }
    }
    let snapshots: Vec<Snapshot> = resources.iter().map(Snapshot::of).collect();
    // Only renamed objects can be referred to under an old name.
    let mut by_previous_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, snapshot) in snapshots.iter().enumerate() {
        let mut names: Vec<&str> = snapshot
            .previous
            .iter()
            .map(|id| id.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            by_previous_name.entry(name).or_default().push(index);
        }
    }
    if by_previous_name.is_empty() {
        return Ok(());
    }
    for (index, resource) in resources.iter_mut().enumerate() {
        let referrer_org = snapshots[index].org_id().clone();
        let mut object = Value::Object(std::mem::take(&mut resource.object));
        for reference in &references {
            for spec in &reference.referrers {
                if !spec.selects(&referrer_org) {
                    continue;
                }
                let context = Context {
                    snapshots: &snapshots,
                    by_previous_name: &by_previous_name,
                    referrer: index,
                    target: (
                        reference.target.0.as_str(),
                        reference.target.1.as_str(),
                        reference.target.2.as_str(),
                    ),
                    role_ref: role_ref_gvk(&object, spec),
                };
                fieldspec::visit::<BuildError>(&mut object, &spec.path, false, &mut |value| {
                    context.set(value)
                })?;
            }
        }
        resource.object = super::transform::namespace::into_map(object);
    }
    Ok(())
}

struct Context<'a> {
    snapshots: &'a [Snapshot],
    by_previous_name: &'a HashMap<&'a str, Vec<usize>>,
    referrer: usize,
    target: (&'a str, &'a str, &'a str),
    role_ref: Option<(String, String)>,
}

impl Context<'_> {
    fn set(&self, value: &mut Value) -> Result<(), BuildError> {
        match value {
            Value::Null => Ok(()),
            Value::String(_) => self.set_scalar(value),
            Value::Object(_) => self.set_mapping(value),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::String(_) => self.set_scalar(item)?,
                        Value::Object(_) => self.set_mapping(item)?,
                        _ => {}
                    }
                }
                Ok(())
            }
            _ => Err(BuildError::new(
                "node must be a scalar, sequence or map".into(),
            )),
        }
    }

    /// Objects once named `old` that the referrer may name at all.
    fn named(&self, old: &str) -> Vec<&Snapshot> {
        self.by_previous_name
            .get(old)
            .map(|found| {
                found
                    .iter()
                    .map(|&i| &self.snapshots[i])
                    .filter(|candidate| could_refer(&self.snapshots[self.referrer], candidate))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn set_scalar(&self, value: &mut Value) -> Result<(), BuildError> {
        let Value::String(old) = value else {
            return Ok(());
        };
        if let Some(referral) = self.select(old, self.named(old), false)? {
            *value = Value::String(referral.id.name.clone());
        }
        Ok(())
    }

    fn set_mapping(&self, value: &mut Value) -> Result<(), BuildError> {
        let Value::Object(map) = value else {
            return Ok(());
        };
        let Some(Value::String(old)) = map.get("name").cloned() else {
            return Err(BuildError::new(
                "path config error; no 'name' field in node".into(),
            ));
        };
        let all = self.named(&old);
        let candidates = match map.get("namespace").and_then(Value::as_str) {
            None => all,
            Some(namespace) => {
                let by_original: Vec<&Snapshot> = all
                    .iter()
                    .copied()
                    .filter(|r| {
                        r.org_id().effective_namespace() == namespace
                            || r.org_id().namespace == namespace
                    })
                    .collect();
                if by_original.is_empty() {
                    all.into_iter()
                        .filter(|r| r.id.effective_namespace() == namespace)
                        .collect()
                } else {
                    by_original
                }
            }
        };
        let Some(referral) = self.select(&old, candidates, true)? else {
            return Ok(());
        };
        if referral.id.name == old && referral.id.namespace.is_empty() {
            return Ok(());
        }
        map.insert("name".into(), referral.id.name.clone().into());
        if !referral.id.namespace.is_empty() {
            map.insert("namespace".into(), referral.id.namespace.clone().into());
        }
        Ok(())
    }

    fn select<'r>(
        &self,
        old: &str,
        candidates: Vec<&'r Snapshot>,
        with_namespace: bool,
    ) -> Result<Option<&'r Snapshot>, BuildError> {
        let (tg, tv, tk) = self.target;
        let referrer = &self.snapshots[self.referrer];
        let mut candidates: Vec<&Snapshot> = candidates
            .into_iter()
            .filter(|r| r.previous.iter().any(|id| id.name == old))
            .filter(|r| r.previous.iter().any(|id| gvk_selects(tg, tv, tk, id)))
            .filter(|r| match &self.role_ref {
                None => true,
                Some((group, kind)) => r.previous.iter().any(|id| gvk_selects(group, "", kind, id)),
            })
            .filter(|r| same_namespace(referrer, r))
            .collect();
        if candidates.len() == 1 {
            return Ok(candidates.pop());
        }
        candidates.retain(|r| affixes_equal(r, referrer, true));
        if candidates.len() > 1 {
            candidates.retain(|r| affixes_equal(r, referrer, false));
        }
        match candidates.len() {
            0 => Ok(None),
            1 => Ok(candidates.pop()),
            _ => {
                let first = candidates[0];
                let identical = candidates.iter().all(|r| {
                    r.id.name == first.id.name
                        && (!with_namespace || r.id.namespace == first.id.namespace)
                });
                if identical {
                    Ok(Some(first))
                } else {
                    let ids: Vec<String> = candidates.iter().map(|r| r.id.describe()).collect();
                    Err(BuildError::new(format!(
                        "found multiple possible referrals: {}",
                        ids.join(", ")
                    )))
                }
            }
        }
    }
}

fn same_namespace(referrer: &Snapshot, candidate: &Snapshot) -> bool {
    referrer.id.is_cluster_scoped()
        || candidate.id.is_cluster_scoped()
        || candidate.id.kind == "ServiceAccount"
        || candidate.id.effective_namespace() == referrer.id.effective_namespace()
}

/// The objects a referrer may name: cluster-scoped ones, ones in its namespace, and for a
/// RoleBinding the namespaces of its subjects.
fn could_refer(referrer: &Snapshot, candidate: &Snapshot) -> bool {
    referrer.id.is_cluster_scoped()
        || candidate.id.is_cluster_scoped()
        || candidate.id.effective_namespace() == referrer.id.effective_namespace()
        || referrer
            .subjects_namespaces
            .contains(&candidate.id.namespace)
}

fn role_ref_gvk(referrer: &Value, spec: &FieldSpec) -> Option<(String, String)> {
    if !spec.path_text().ends_with("roleRef/name") {
        return None;
    }
    let role_ref = referrer.get("roleRef")?;
    let group = role_ref.get("apiGroup")?.as_str()?.to_owned();
    let kind = role_ref.get("kind")?.as_str()?.to_owned();
    Some((group, kind))
}

fn affixes_equal(a: &Snapshot, b: &Snapshot, allow_empty: bool) -> bool {
    if allow_empty {
        let prefixes =
            a.prefixes.is_empty() || b.prefixes.is_empty() || same_ending(&a.prefixes, &b.prefixes);
        let suffixes =
            a.suffixes.is_empty() || b.suffixes.is_empty() || same_ending(&a.suffixes, &b.suffixes);
        prefixes && suffixes
    } else {
        same_ending(&a.prefixes, &b.prefixes) && same_ending(&a.suffixes, &b.suffixes)
    }
}

/// Kustomize's `SameEndingSubSlice`: one list ends with the other.
fn same_ending(a: &[String], b: &[String]) -> bool {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return long.is_empty();
    }
    long[long.len() - short.len()..] == *short
}
