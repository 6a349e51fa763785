//! `Chart.lock`: the exact dependency versions `helm dependency update` chose, pinned.
//!
//! `helm dependency build` fetches the lock's versions, not `Chart.yaml`'s ranges, once it has
//! checked that the lock still belongs to `Chart.yaml`: the lock's `digest` is Helm's
//! `HashReq` — the sha256 of `json.Marshal([Chart.yaml's dependencies, the lock's])`. plumb
//! does the same: a lock in sync pins each missing dependency to its locked version and
//! repository. A lock out of sync (`Chart.yaml` edited since) pins nothing: the ranges are
//! resolved again, as `helm dependency update` would. `helm template` itself never checks
//! the digest; it only needs the lock to be readable ([`check`]).

use serde::Deserialize;
use sha2::Digest;

use crate::chart::{Chart, Dependency};
use crate::value::Value;

impl Chart {
    /// The dependencies `Chart.yaml` declares that are not in `charts/`: what
    /// `helm dependency build` would fetch — at the versions `Chart.lock` pins when it is
    /// in sync with `Chart.yaml`.
    pub fn missing_dependencies(&self) -> Vec<Dependency> {
        let missing = self
            .metadata
            .dependencies
            .iter()
            .filter(|d| !self.dependencies.iter().any(|c| c.metadata.name == d.name));
        let lock = self.files.get("Chart.lock").map(Vec::as_slice);
        pin(
            &self.metadata.dependencies,
            lock,
            missing.cloned().collect(),
        )
    }
}

/// The parts of `Chart.lock` that pin.
#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    digest: String,
    #[serde(default)]
    dependencies: Vec<Dependency>,
}

/// `missing` (dependencies of `declared`) with the versions and repositories `lock_file`
/// pins, when it is in sync with `declared`.
pub(crate) fn pin(
    declared: &[Dependency],
    lock_file: Option<&[u8]>,
    missing: Vec<Dependency>,
) -> Vec<Dependency> {
    let Some(lock) = lock_file
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .and_then(|text| {
            serde_saphyr::from_str_with_options::<Lock>(
                &crate::yaml_breaks::as_go_yaml_reads(text),
                plumb_manifest::yaml_reading_options(),
            )
            .ok()
        })
    else {
        return missing;
    };
    if hash_req(declared, &lock.dependencies) != lock.digest {
        return missing;
    }
    missing
        .into_iter()
        .map(|mut dep| {
            // Helm's resolver writes one lock entry per declared dependency, in order.
            let locked = declared
                .iter()
                .position(|d| d.name == dep.name && d.alias == dep.alias)
                .and_then(|at| lock.dependencies.get(at))
                .filter(|l| l.name == dep.name);
            if let Some(locked) = locked {
                dep.version = locked.version.clone();
                dep.repository = locked.repository.clone();
            }
            dep
        })
        .collect()
}

/// Helm's `resolver.HashReq`: `sha256:` and the hex digest of both lists as Go's
/// `encoding/json` writes `[]*chart.Dependency`.
fn hash_req(declared: &[Dependency], locked: &[Dependency]) -> String {
    let json = format!("[{},{}]", go_json(declared), go_json(locked));
    let digest = sha2::Sha256::digest(json.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// One list of dependencies, fields in the struct's order, `omitempty` ones left out.
fn go_json(deps: &[Dependency]) -> String {
    if deps.is_empty() {
        return "null".into();
    }
    let string = |s: &str| crate::funcs::go_json(&Value::str(s));
    let items: Vec<String> = deps
        .iter()
        .map(|d| {
            let mut fields = vec![format!("\"name\":{}", string(&d.name))];
            if !d.version.is_empty() {
                fields.push(format!("\"version\":{}", string(&d.version)));
            }
            fields.push(format!("\"repository\":{}", string(&d.repository)));
            if !d.condition.is_empty() {
                fields.push(format!("\"condition\":{}", string(&d.condition)));
            }
            if !d.tags.is_empty() {
                let tags: Vec<Value> = d.tags.iter().map(|t| Value::str(t.as_str())).collect();
                fields.push(format!(
                    "\"tags\":{}",
                    crate::funcs::go_json(&Value::list(tags))
                ));
            }
            if !d.import_values.is_empty() {
                let values = Value::list(d.import_values.iter().map(Value::from_json).collect());
                fields.push(format!(
                    "\"import-values\":{}",
                    crate::funcs::go_json(&values)
                ));
            }
            if !d.alias.is_empty() {
                fields.push(format!("\"alias\":{}", string(&d.alias)));
            }
            format!("{{{}}}", fields.join(","))
        })
        .collect();
    format!("[{}]", items.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(name: &str, version: &str, repository: &str) -> Dependency {
        Dependency {
            name: name.into(),
            version: version.into(),
            repository: repository.into(),
            ..Default::default()
        }
    }

    /// A `Chart.lock` that `helm dependency update` (v4.3.2) wrote for two dependencies.
    const LOCK: &str = "dependencies:\n- name: redis\n  repository: https://charts.example.com\n  version: 1.2.3\n- name: common\n  repository: oci://registry.example.com/charts\n  version: 2.0.1\ndigest: DIGEST\ngenerated: \"2026-12-04T10:00:00Z\"\n";

    /// Chart.yaml and the Chart.lock helm v4.3.2's `helm dependency update` wrote for it.
    #[test]
    fn the_digest_is_helm_s() {
        let chart_yaml = "apiVersion: v2\nname: main\nversion: 0.1.0\ndependencies:\n  - name: sub1\n    version: \">=1.0.0 <2\"\n    repository: file://../sub1\n    condition: sub1.enabled\n    tags: [a, b]\n    import-values:\n      - data\n      - child: x.y\n        parent: z\n  - name: sub2\n    version: 0.5.x\n    repository: \"file://../sub2\"\n    alias: second\n";
        let lock = "dependencies:\n- name: sub1\n  repository: file://../sub1\n  version: 1.2.3\n- name: sub2\n  repository: file://../sub2\n  version: 0.5.0\ndigest: sha256:70b1c3a60d5b8e29e3a83d497376f1440ca68f26af32f21444f2a466cf3ccfb1\ngenerated: \"2026-12-04T10:54:42.012266618Z\"\n";
        let metadata: crate::chart::Metadata = serde_saphyr::from_str(chart_yaml).unwrap();
        let declared = metadata.dependencies;
        let pinned = pin(&declared, Some(lock.as_bytes()), declared.clone());
        assert_eq!(pinned[0].version, "1.2.3");
        assert_eq!(pinned[1].version, "0.5.0");
        assert_eq!(pinned[1].alias, "second");
    }

    #[test]
    fn a_lock_in_sync_pins_and_one_out_of_sync_does_not() {
        let declared = vec![
            dep("redis", ">=1.0.0 <2", "https://charts.example.com"),
            dep("common", "2.x.x", "oci://registry.example.com/charts"),
        ];
        let locked = vec![
            dep("redis", "1.2.3", "https://charts.example.com"),
            dep("common", "2.0.1", "oci://registry.example.com/charts"),
        ];
        let lock = LOCK.replace("DIGEST", &hash_req(&declared, &locked));
        let pinned = pin(&declared, Some(lock.as_bytes()), declared.clone());
        assert_eq!(pinned[0].version, "1.2.3");
        assert_eq!(pinned[1].version, "2.0.1");
        let mut edited = declared.clone();
        edited[0].version = ">=1.1.0".into();
        let unpinned = pin(&edited, Some(lock.as_bytes()), edited.clone());
        assert_eq!(unpinned[0].version, ">=1.1.0");
        assert_eq!(pin(&declared, None, declared.clone())[1].version, "2.x.x");
    }
}
