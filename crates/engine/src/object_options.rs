//! What one object asks of a sync, by its annotations — plumb's own, and the ones teams
//! bring from Argo CD and Flux, read as the same thing so a repository moves unchanged.
//!
//! | plumb | Argo CD | Flux |
//! | --- | --- | --- |
//! | `plumb.dev/sync-wave: N` | `argocd.argoproj.io/sync-wave: N` (Helm's `helm.sh/hook-weight` too) | (`dependsOn` between Kustomizations) |
//! | `plumb.dev/prune: disabled` | `argocd.argoproj.io/sync-options: Prune=false` | `kustomize.toolkit.fluxcd.io/prune: disabled` |
//! | `plumb.dev/delete: disabled` | `…/sync-options: Delete=false` | — |
//! | `plumb.dev/recreate: enabled` | `…/sync-options: Force=true,Replace=true` | `kustomize.toolkit.fluxcd.io/force: enabled` |
//! | `plumb.dev/apply: if-not-present` | — | `kustomize.toolkit.fluxcd.io/ssa: IfNotPresent` |
//! | `plumb.dev/apply: disabled` | — | `kustomize.toolkit.fluxcd.io/ssa: Ignore`, `kustomize.toolkit.fluxcd.io/reconcile: disabled` |
//! | `plumb.dev/apply: merge` | — | `kustomize.toolkit.fluxcd.io/ssa: Merge` |
//!
//! Argo CD's `Prune=confirm` and `Delete=confirm` keep the object (plumb has no manual
//! confirmation; deleting it stays a person's act). `ServerSideApply=true` and
//! `Replace=true` alone need nothing (plumb always applies server-side, which has no
//! last-applied size limit — the reason teams set `Replace`); `Validate=false`,
//! `SkipDryRunOnMissingResource=true`, `PruneLast=true` and `compare-options:
//! IgnoreExtraneous` are accepted and change nothing (plumb validates with the API
//! server's own dry-run, looks a missing kind up again before it fails, prunes after
//! every wave is applied, and never reports objects it does not track). Unknown entries are errors, so a typo is not a
//! silent no-op.

use serde_json::{Map, Value};

use crate::tracking::annotation;

/// plumb's own annotations.
pub const WAVE: &str = "plumb.dev/sync-wave";
/// `disabled`: never pruned, nor deleted with its app.
pub const PRUNE: &str = "plumb.dev/prune";
/// `disabled`: pruned when it leaves Git, but left in place when its app is deleted.
pub const DELETE: &str = "plumb.dev/delete";
/// `enabled`: deleted and created again when an immutable field changes.
pub const RECREATE: &str = "plumb.dev/recreate";
/// `if-not-present`, `merge` or `disabled` (default: apply).
pub const APPLY: &str = "plumb.dev/apply";

const ARGO_WAVE: &str = "argocd.argoproj.io/sync-wave";
/// Helm's order among hooks, read as a wave as Argo CD reads it.
const HELM_HOOK_WEIGHT: &str = "helm.sh/hook-weight";
const ARGO_SYNC_OPTIONS: &str = "argocd.argoproj.io/sync-options";
const FLUX_PRUNE: &str = "kustomize.toolkit.fluxcd.io/prune";
const FLUX_SSA: &str = "kustomize.toolkit.fluxcd.io/ssa";
const FLUX_RECONCILE: &str = "kustomize.toolkit.fluxcd.io/reconcile";
const FLUX_FORCE: &str = "kustomize.toolkit.fluxcd.io/force";

/// How an object is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ApplyMode {
    /// Server-side apply, taking over fields other managers own (the app's setting).
    #[default]
    Apply,
    /// Server-side apply without taking over fields another manager owns: a conflict is
    /// reported, not forced.
    Merge,
    /// Created when missing, never updated after.
    IfNotPresent,
    /// Never written: plumb keeps it in its inventory (so it is not pruned) and leaves it.
    Disabled,
}

/// The options of one object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectOptions {
    /// Its sync wave (default 0).
    pub wave: i64,
    /// Never pruned, nor deleted with its app.
    pub no_prune: bool,
    /// Not deleted with its app.
    pub no_delete: bool,
    /// Deleted and created again when an immutable field changes.
    pub recreate: bool,
    /// How it is written.
    pub apply: ApplyMode,
}

impl ObjectOptions {
    /// The options `manifest`'s annotations ask for; an error names an annotation whose
    /// value is not understood.
    pub fn of(manifest: &Map<String, Value>) -> Result<ObjectOptions, String> {
        let get = |key| annotation(manifest, key).map(str::trim);
        let mut options = ObjectOptions {
            wave: wave(manifest)?,
            ..ObjectOptions::default()
        };
        if let Some(value) = get(PRUNE) {
            options.no_prune = flag(PRUNE, value, "disabled", "enabled")?;
        }
        if let Some(value) = get(FLUX_PRUNE) {
            options.no_prune |= flag(FLUX_PRUNE, value, "disabled", "enabled")?;
        }
        if let Some(value) = get(DELETE) {
            options.no_delete = flag(DELETE, value, "disabled", "enabled")?;
        }
        if let Some(value) = get(RECREATE) {
            options.recreate = flag(RECREATE, value, "enabled", "disabled")?;
        }
        if let Some(value) = get(FLUX_FORCE) {
            options.recreate |= flag(FLUX_FORCE, value, "enabled", "disabled")?;
        }
        if let Some(value) = get(APPLY) {
            options.apply = match value {
                "apply" => ApplyMode::Apply,
                "merge" => ApplyMode::Merge,
                "if-not-present" => ApplyMode::IfNotPresent,
                "disabled" => ApplyMode::Disabled,
                other => {
                    return Err(unknown(
                        APPLY,
                        other,
                        "apply, merge, if-not-present or disabled",
                    ));
                }
            };
        }
        if let Some(value) = get(FLUX_SSA) {
            options.apply = match value.to_ascii_lowercase().as_str() {
                "override" => ApplyMode::Apply,
                "merge" => ApplyMode::Merge,
                "ifnotpresent" => ApplyMode::IfNotPresent,
                "ignore" => ApplyMode::Disabled,
                _ => {
                    return Err(unknown(
                        FLUX_SSA,
                        value,
                        "Override, Merge, IfNotPresent or Ignore",
                    ));
                }
            };
        }
        if let Some(value) = get(FLUX_RECONCILE)
            && flag(FLUX_RECONCILE, value, "disabled", "enabled")?
        {
            options.apply = ApplyMode::Disabled;
        }
        if let Some(value) = get(ARGO_SYNC_OPTIONS) {
            argo_sync_options(value, &mut options)?;
        }
        Ok(options)
    }
}

/// The sync wave: `plumb.dev/sync-wave`, else Argo CD's, else a Helm hook's weight, else 0.
fn wave(manifest: &Map<String, Value>) -> Result<i64, String> {
    let Some((key, text)) = [WAVE, ARGO_WAVE, HELM_HOOK_WEIGHT]
        .into_iter()
        .find_map(|key| annotation(manifest, key).map(|text| (key, text)))
    else {
        return Ok(0);
    };
    text.trim()
        .parse()
        .map_err(|_| format!("{key} must be an integer, not {text:?}"))
}

/// Argo CD's comma-separated `Name=value` list.
fn argo_sync_options(list: &str, options: &mut ObjectOptions) -> Result<(), String> {
    let mut force = false;
    let mut replace = false;
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
        let yes = match value {
            "true" => true,
            // Confirmation by hand: plumb never deletes such an object by itself.
            "false" | "confirm" => false,
            _ => return Err(unknown(ARGO_SYNC_OPTIONS, entry, "Name=true or Name=false")),
        };
        match name {
            "Prune" => options.no_prune |= !yes,
            "Delete" => options.no_delete |= !yes,
            "Force" => force = yes,
            "Replace" => replace = yes,
            // Server-side apply and the API server's validation are how plumb always
            // works; a missing kind is looked up again before it fails.
            "ServerSideApply" | "Validate" | "SkipDryRunOnMissingResource" | "PruneLast" => {}
            _ => {
                return Err(format!(
                    "{ARGO_SYNC_OPTIONS}: {entry:?} is not an option plumb knows (Prune, Delete, Force, Replace, ServerSideApply, Validate, SkipDryRunOnMissingResource, PruneLast)"
                ));
            }
        }
    }
    options.recreate |= force && replace;
    Ok(())
}

/// Whether `value` is `on` (true) or `off` (false).
fn flag(key: &str, value: &str, on: &str, off: &str) -> Result<bool, String> {
    if value == on {
        Ok(true)
    } else if value == off {
        Ok(false)
    } else {
        Err(unknown(key, value, &format!("{on} or {off}")))
    }
}

fn unknown(key: &str, value: &str, expected: &str) -> String {
    format!("{key}: {value:?} is not understood; expected {expected}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(annotations: &[(&str, &str)]) -> Result<ObjectOptions, String> {
        let annotations: Map<String, Value> = annotations
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect();
        let manifest = serde_json::json!({"metadata": {"annotations": annotations}});
        ObjectOptions::of(manifest.as_object().unwrap())
    }

    #[test]
    fn an_object_without_annotations_is_applied_in_wave_zero() {
        assert_eq!(options(&[]), Ok(ObjectOptions::default()));
    }

    #[test]
    fn argo_cd_and_flux_annotations_mean_what_plumbs_own_do() {
        assert_eq!(
            options(&[("argocd.argoproj.io/sync-wave", "-2")])
                .unwrap()
                .wave,
            -2
        );
        assert_eq!(
            options(&[(WAVE, "3"), ("argocd.argoproj.io/sync-wave", "-2")])
                .unwrap()
                .wave,
            3,
            "plumb's own wins"
        );
        let argo = options(&[(
            "argocd.argoproj.io/sync-options",
            "Prune=false, Delete=false,ServerSideApply=true",
        )])
        .unwrap();
        assert!(argo.no_prune && argo.no_delete && !argo.recreate);
        let confirm = options(&[("argocd.argoproj.io/sync-options", "Delete=confirm")]);
        assert!(confirm.unwrap().no_delete);
        let replace = options(&[("argocd.argoproj.io/sync-options", "Force=true,Replace=true")]);
        assert!(replace.unwrap().recreate);
        let replace_alone = options(&[("argocd.argoproj.io/sync-options", "Replace=true")]);
        assert!(!replace_alone.unwrap().recreate);
        assert!(
            options(&[("kustomize.toolkit.fluxcd.io/prune", "disabled")])
                .unwrap()
                .no_prune
        );
        let modes = [
            ("Merge", ApplyMode::Merge),
            ("IfNotPresent", ApplyMode::IfNotPresent),
            ("Ignore", ApplyMode::Disabled),
            ("Override", ApplyMode::Apply),
        ];
        for (flux, mode) in modes {
            let found = options(&[("kustomize.toolkit.fluxcd.io/ssa", flux)]);
            assert_eq!(found.unwrap().apply, mode, "{flux}");
        }
        assert_eq!(
            options(&[("kustomize.toolkit.fluxcd.io/reconcile", "disabled")])
                .unwrap()
                .apply,
            ApplyMode::Disabled
        );
        assert_eq!(
            options(&[(APPLY, "if-not-present")]).unwrap().apply,
            ApplyMode::IfNotPresent
        );
    }

    #[test]
    fn a_value_not_understood_is_an_error_naming_the_annotation() {
        for (key, value) in [
            (WAVE, "soon"),
            (PRUNE, "no"),
            (APPLY, "sometimes"),
            ("kustomize.toolkit.fluxcd.io/ssa", "Always"),
            ("argocd.argoproj.io/sync-options", "Prune=maybe"),
            ("argocd.argoproj.io/sync-options", "Retry=true"),
        ] {
            let error = options(&[(key, value)]).unwrap_err();
            assert!(error.contains(key), "{error}");
        }
    }
}
