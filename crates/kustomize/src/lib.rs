//! Native Kustomize: a kustomization directory → objects, byte for byte what
//! `kubectl kustomize` (Kustomize v5.5.0) prints for what plumb supports.
//!
//! ```text
//!  build(dir) ── kustomization ─▶ resources (files, bases: build(base)) ─▶ configurations,
//!               crds ─▶ generators ─▶ generators: entries (plugins) ─▶ components
//!            ─▶ transformers (patches, namespace, prefix/suffix, labels, annotations,
//!               JSON patches, replicas, images, replacements) ─▶ transformers: entries
//!               (each noted on the objects when asked for) ─▶ vars declared
//!  render    ── build(app) ─▶ hash suffixes ─▶ name references ─▶ vars expanded
//!            ─▶ sort order ─▶ build metadata ─▶ objects
//! ```
//!
//! Supported: `resources` (files, directories with their own kustomization, nested
//! bases), `components`, `namespace`, `namePrefix`, `nameSuffix`, `labels`,
//! `commonLabels`, `commonAnnotations`, `images`, `replicas`, `patches` (strategic merge
//! and JSON 6902, inline or file, with target selectors and `options`),
//! `patchesStrategicMerge`, `patchesJson6902`, `configMapGenerator`, `secretGenerator`,
//! `generatorOptions`, `replacements`, `sortOptions`, `helmCharts`;
//! `configurations` (field specs for custom resources: nameReference, namePrefix/Suffix,
//! namespace, commonLabels, templateLabels, commonAnnotations, images, replicas,
//! varReference; merged upward from bases and components, with Kustomize's conflicts);
//! `crds` (OpenAPI definitions whose x-kubernetes extensions declare the same);
//! `openapi` (`path`: a custom OpenAPI schema, JSON or YAML, whose
//! `x-kubernetes-patch-strategy`, `-patch-merge-key` and `-list-map-keys` tell strategic
//! merge how to merge custom resources' lists — replacing the built-in schema for the
//! whole build, as Kustomize does; `version: v1.21.2`, the built-in one; the first
//! kustomization to name one wins, the one built first; module `openapi`);
//! `vars` (`$(NAME)` in the `varReference` fields, resolved last); `buildMetadata`
//! (`managedByLabel`, `originAnnotations`, `transformerAnnotations`); `generators` and
//! `transformers` (Kustomize's built-in plugins — `apiVersion: builtin` configurations
//! inline, in files or built by a directory: PrefixSuffix/Prefix/Suffix, Label,
//! Annotations, Namespace, ImageTag, ReplicaCount, Patch, PatchStrategicMerge,
//! PatchJson6902, Replacement and Hash transformers, ConfigMap, Secret and
//! HelmChartInflation generators; exec, Go and
//! KRM-function plugins are refused by name, [`Error::KustomizePlugin`]). Any other field
//! fails the render with an error naming it and its file ([`Error::KustomizeUnsupported`]);
//! remote bases are refused unless allowed.
//!
//! Files a kustomization reads (resource files, patches, generator sources, replacement
//! and plugin configurations) may lie anywhere inside the repository by default —
//! Flux's `LoadRestrictionsNone`, so an overlay may name `../shared/patch.yaml` — or,
//! with [`LoadRestrictor::RootOnly`] (`--load-restrictor LoadRestrictionsRootOnly`), only
//! in or below its own directory, as `kubectl kustomize` requires by default. A path or a
//! symlink that leaves the repository is refused under both.
//!
//! # The oracle corpus
//!
//! `tests/kustomize_oracle.rs` renders each of the 100 fixtures under
//! `tests/fixtures/kustomize/` with plumb and with `kubectl kustomize` (Kustomize v5.5.0)
//! and requires identical bytes, or both to fail. All 100 agree. They cover:
//!
//! - realistic overlays: a base (Deployment, Service, ConfigMap, Ingress, HPA, RBAC,
//!   generated ConfigMap and Secret) alone and under dev, staging and prod overlays, and a
//!   three-level stack (`base-realistic`, `overlay-*`, `multiple-overlays-stack`);
//! - resources: files, `List`s, JSON, nested bases, deprecated `bases`, `kustomization.yml`;
//!   `components` (resources, generators merged across components, patches, labels);
//! - `namespace` (with Namespace renaming, cluster-scoped kinds, RoleBinding subjects),
//!   `namePrefix`/`nameSuffix`, `commonLabels` across workload kinds' selectors and
//!   templates, `labels` with and without selectors, templates and user field specs,
//!   `commonAnnotations`, `images` (newName, newTag, digest, all together, CronJobs),
//!   `replicas`;
//! - generators: literals (quoting, `=` in values), files (renamed keys), env files,
//!   mixtures, `behavior` create/merge/replace over a base, per-entry and global
//!   `generatorOptions` (labels, annotations, no hash, immutable), Secret types and
//!   Kustomize's wrapped base64, content hashes (of data with HTML, `<<` and control
//!   characters too);
//! - name references: ConfigMaps, Secrets, ServiceAccounts, PVCs, Roles, Services, HPA
//!   targets across Pods, DaemonSets, CronJobs, projected volumes, image pull secrets,
//!   RBAC rules and bindings, cross-namespace subjects;
//! - `patches` (strategic merge inline and from files, JSON 6902, targets by group,
//!   version, kind, name regex, namespace, label and annotation selectors), merge keys
//!   and multi-key lists, `$patch: delete/replace` on elements, maps, lists and whole
//!   objects, custom resources (lists replaced), legacy `patchesStrategicMerge` and
//!   `patchesJson6902`;
//! - `replacements` (inline and from a file; element selectors, create, delimiters,
//!   reject), `sortOptions` fifo and the legacy order;
//! - YAML output: quoting of every ambiguous scalar, literal blocks and chomping, folding
//!   at 80 columns, escapes, key order, numbers, nulls, empty collections;
//! - loading: Flux-style repositories naming resource files, patches, JSON patches,
//!   generator sources and replacements in sibling folders under `LoadRestrictionsNone`
//!   (`flux-*`; a fixture's `load-restrictor` file names the restrictor for both sides);
//! - built-in plugins (`transformers-*`, `generators-builtin`): every transformer kind
//!   with its own field specs (custom-resource image fields, volume claim templates,
//!   CronJob containers), unset-only namespaces and all-ServiceAccount subjects, generators
//!   merging over the kustomization's own, configurations from a directory's build, and
//!   `HashTransformer` hashing twice as Kustomize does;
//! - `configurations` declared in a base for Argo Rollouts (name references to
//!   ConfigMaps, Secrets, Services and AnalysisTemplates, selectors and template labels,
//!   images, replicas) used by an overlay's prefix, namespace, labels, images and replicas;
//! - `crds`: a custom Database naming its Secret by a custom key and a Backup naming the
//!   Database, with selector labels, under an overlay's prefix and labels;
//! - `openapi`: custom schemas in YAML and JSON (merge keys through `$ref`s and inline
//!   items, `additionalProperties`, lists of scalars as sets, two-key lists, `merge,retainKeys`,
//!   list types without a merge strategy replaced, built-in kinds no longer merged by the
//!   built-in schema), a schema named by a base, by a component (an Argo Rollout's
//!   containers, env and ports merged), in a parent folder (`LoadRestrictionsNone`), an
//!   overlay's `version` winning over a base's schema, and a base patched before a later
//!   base names the schema (its lists replaced, as in Kustomize);
//! - `vars` in an older WordPress/MySQL repository (names after prefixes and hashes,
//!   ports by index as numbers, ConfigMap data, `$$` escapes, unknown vars kept, the
//!   default `varReference` fields) and with `group`/`version` objrefs;
//! - 30 error cases: missing files, unknown fields, duplicate ids, patches and generators
//!   without a target, components used as resources, files outside a kustomization's
//!   directory (root-only), replicas and replacements that select nothing, namespace
//!   conflicts, an exec plugin, a builtin kind 5.5 lacks (SortOrderTransformer), a
//!   generator listed as a transformer, conflicting `create` in `configurations`, vars
//!   declared twice, matching nothing, or lacking the objref's apiVersion, a resource
//!   directory without a kustomization, sort options without an order or with legacy
//!   options under fifo; `openapi` naming both `path` and `version` (in the kustomization
//!   built and in a base), a version that is not built in, a missing schema file, and a
//!   schema in a parent folder under the root-only restrictor;
//! - ports with and without `protocol` in containers and Services patched both ways
//!   (kyaml's merge on two keys, where a patch entry may leave a port as it was), and a
//!   Service's ports, all with both keys, keeping the destination's order after new ones;
//! - a StatefulSet without volume claim templates and a NetworkPolicy without peers under
//!   `commonLabels` (no sequence is created), a `batch/v1` CronJob's containers merged by
//!   name;
//! - `buildMetadata` (managed-by label, origin annotations of files, base and overlay
//!   generators and a merged generator, transformation annotations of a base's and an
//!   overlay's transformers and of inline and file plugins; origin and transformation
//!   annotations written in a repository removed, as Kustomize removes them);
//! - kubectl's leniency: field names in any case (`nameprefix`, `Literals`, as Go's
//!   decoding reads them), a key repeated in a kustomization (the last wins), a blank
//!   namespace, empty legacy sort options.
//!
//! `helmCharts` (and `HelmChartInflationGenerator` configurations) are inflated by
//! `plumb-helm` (module `helm_chart`): charts in the
//! repository, never pulled; the oracle compares them with `--enable-helm` and the real helm.
//!
//! Known gaps: `validators`, the builtin ValueAdd and IAMPolicy plugins, and
//! origin annotations of Helm chart objects are refused by name; an `openapi` path that is
//! a URL is refused (Kustomize downloads it), and a custom schema's `paths` (which Kustomize
//! reads for the scope of custom kinds) are not read; a schema file is parsed when its
//! kustomization is loaded, so a malformed one fails even where Kustomize would not use it; lists keyed by two fields merge as kyaml merges them (module
//! `smp_keys`) only up to 512 elements and without `$patch` directives;
//! `$setElementOrder`, `$retainKeys` and `$deleteFromPrimitiveList` are passed through as
//! Kustomize passes them (it does not apply them either); unquoted YAML timestamps
//! (`2001-01-01`) stay strings where Kustomize writes them as RFC 3339 times.

mod build_metadata;
mod configurations;
mod crds;
mod edit;
mod emit;
mod error;
mod external;
mod fieldspec;
/// Entry points for the fuzz targets (`fuzz/`); not an API.
#[doc(hidden)]
pub mod fuzzing;
mod generator;
mod hash;
mod helm_chart;
mod image_ref;
mod image_use;
mod json6902;
mod kustomization;
mod load;
mod nameref;
mod openapi;
mod options;
mod order;
mod patch;
mod plugin;
mod replacement;
mod resource;
mod schema;
mod selector;
mod smp;
mod smp_keys;
mod spelling;
mod transform;
mod transformers;
mod vars;

use std::path::Path;

use serde_json::{Map, Value};

use configurations::{Configurations, merged};
use generator::GeneratedKind;
use kustomization::Kustomization;
use load::{Context, Loader};
use plumb_manifest::{RepoFile, Root};
use resource::Resource;

pub use edit::{FieldChange, ImageEntryChange, set_images};
pub use emit::stream as yaml_stream;
pub use error::{Error, Result};
/// The isolated runner of external binaries (scrubbed environment, private HOME, own
/// process group, deadline, bounded output); `plumb-render` runs an external helm with it too.
pub use external::process::{Failure as ExternalFailure, run as run_external};
pub use image_ref::{ImageRef, check_image_name};
pub use image_use::{ContainerImage, kustomization_file, overlay_images};
pub use options::{
    BuildOptions, KUSTOMIZATION_FILES, KustomizeOptions, LoadRestrictor, kustomization_in,
};
pub use transform::images::{matches as image_matches, split as split_image};

/// One rendered object: its manifest, where it came from, whether it was decrypted.
pub type Built = (Map<String, Value>, plumb_manifest::Origin, bool);

/// A failure inside a transformer, before it is tied to its kustomization file.
#[derive(Debug)]
pub(crate) struct BuildError {
    detail: String,
    /// The limit passed (its name in [`plumb_manifest::Limits`] and value), when that is the cause.
    limit: Option<(&'static str, u64)>,
}

impl BuildError {
    pub(crate) fn new(detail: String) -> Self {
        BuildError {
            detail,
            limit: None,
        }
    }

    /// A limit of [`plumb_manifest::Limits`] passed while building.
    pub(crate) fn limit(limit: &'static str, value: u64, detail: String) -> Self {
        BuildError {
            detail,
            limit: Some((limit, value)),
        }
    }

    /// The same failure, with what it happened in put first.
    pub(crate) fn within(self, what: impl std::fmt::Display) -> Self {
        BuildError {
            detail: format!("{what}: {}", self.detail),
            ..self
        }
    }
}

impl From<plumb_manifest::size::Exceeded> for BuildError {
    fn from(exceeded: plumb_manifest::size::Exceeded) -> Self {
        BuildError::limit(exceeded.limit, exceeded.value, exceeded.detail)
    }
}

/// The objects of the kustomization in `dir` (inside `root`), in Kustomize's order.
pub fn render(
    root: Root,
    dir: &Path,
    relative: &str,
    options: &BuildOptions,
) -> Result<Vec<Built>> {
    let context = Context::new(root, options);
    let directory = context.root.resolve(relative)?;
    let native = render_native(&context, directory, true);
    // A refused remote base stays refused: the external binary would fetch it.
    let external_may_render = match &native {
        Err(Error::KustomizeUnsupported { .. }) => true,
        Err(Error::KustomizeRemoteBase { allowed, .. }) => *allowed,
        _ => false,
    };
    match (&options.kustomize.external, external_may_render) {
        (Some(command), true) => external::render(&context, command, dir, relative),
        _ => native,
    }
}

/// `own_images: false` leaves out the top kustomization's `images:` and the one
/// transformer Kustomize runs after them (`replacements`): the objects as its images
/// transformer is given them (see `image_use`).
fn render_native(
    context: &Context<'_>,
    directory: RepoFile,
    own_images: bool,
) -> Result<Vec<Built>> {
    let loader = Loader::open(context, directory)?;
    let mut kustomization =
        Kustomization::from_document(&loader.kustomization_file(), loader.read_kustomization()?)?;
    openapi::declare(&loader, &kustomization.openapi, true)?;
    if !own_images {
        kustomization.images.clear();
        kustomization.replacements.clear();
    }
    let notes = kustomization
        .build_metadata
        .iter()
        .any(|o| o == "transformerAnnotations");
    context.transformations.set(notes);
    let Accumulated {
        mut resources,
        configurations,
        vars,
    } = build(context, &loader, &kustomization)?;
    hash::suffix_names(&mut resources);
    nameref::fix(&mut resources, &configurations.name_reference).map_err(|e| loader.fail(e))?;
    let var_references = merged(vars::default_references(), &configurations.var_reference);
    vars::resolve(&mut resources, &vars, &var_references).map_err(|e| loader.fail(e))?;
    // Only the top kustomization's sort options count, as in Kustomize.
    let sort = kustomization.sort_options.as_ref();
    match sort.map(|s| s.order.as_str()) {
        None | Some("legacy") => {
            let options = sort.and_then(|s| s.legacy_sort_options.as_ref());
            order::legacy(
                &mut resources,
                options.map(|o| o.order_first.as_slice()),
                options.map(|o| o.order_last.as_slice()),
            );
        }
        Some("fifo") if sort.is_some_and(|s| s.legacy_sort_options.is_some()) => {
            return Err(loader.error(
                "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'; remove it or use order: legacy".into(),
            ));
        }
        Some("fifo") => {}
        Some(_) => {
            return Err(
                loader.error("the field 'sortOptions.order' must be one of [fifo, legacy]".into())
            );
        }
    }
    build_metadata::apply(
        &mut resources,
        &kustomization.build_metadata,
        &loader.dir.relative,
    )
    .map_err(
        |build_metadata::Unsupported(field)| Error::KustomizeUnsupported {
            file: loader.kustomization_file(),
            field: field.to_owned(),
        },
    )?;
    Ok(resources
        .into_iter()
        .map(|r| (r.object, r.origin, r.decrypted))
        .collect())
}

/// What a kustomization produced: its objects, and the field specs and vars it and its
/// bases and components declared.
#[derive(Default)]
struct Accumulated {
    resources: Vec<Resource>,
    configurations: Configurations,
    vars: Vec<vars::Var>,
}

/// Everything one kustomization produces (Kustomize's `accumulateTarget`).
fn build(
    context: &Context<'_>,
    loader: &Loader<'_, '_>,
    kustomization: &Kustomization,
) -> Result<Accumulated> {
    {
        let mut stack = context.stack.borrow_mut();
        let dir = loader.dir.relative.clone();
        if stack.contains(&dir) {
            return Err(loader.error(format!("cycle detected: {dir} includes itself")));
        }
        if stack.len() > 64 {
            return Err(loader.error("kustomizations nest more than 64 deep".into()));
        }
        stack.push(dir);
    }
    let result = accumulate(context, loader, kustomization, Default::default());
    context.stack.borrow_mut().pop();
    result
}

fn accumulate(
    context: &Context<'_>,
    loader: &Loader<'_, '_>,
    k: &Kustomization,
    accumulated: Accumulated,
) -> Result<Accumulated> {
    let Accumulated {
        mut resources,
        mut configurations,
        vars: mut declared,
    } = accumulated;
    let mut seen: std::collections::HashSet<IdKey> = resources.iter().map(id_key).collect();
    for path in &k.resources {
        if is_remote(path) {
            return Err(Error::KustomizeRemoteBase {
                file: loader.kustomization_file(),
                url: path.clone(),
                allowed: context.options.kustomize.allow_remote_bases,
            });
        }
        let target = loader.resolve(path)?;
        let found = if target.is_dir() {
            let sub = Loader::open(context, target)?;
            let sub_k =
                Kustomization::from_document(&sub.kustomization_file(), sub.read_kustomization()?)?;
            openapi::declare(&sub, &sub_k.openapi, false)?;
            if sub_k.is_component() {
                return Err(sub.error(format!(
                    "expected kind != 'Component' for path '{}'",
                    sub.dir.relative
                )));
            }
            let base = build(context, &sub, &sub_k)?;
            for var in &base.vars {
                if declared.iter().any(|v| v.name == var.name) {
                    return Err(loader.error(format!(
                        "var '{}' already encountered (declared again in {path}); give each var its own name",
                        var.name
                    )));
                }
                declared.push(var.clone());
            }
            configurations
                .merge(base.configurations)
                .map_err(|detail| {
                    loader.error(format!("merging configurations of {path}: {detail}"))
                })?;
            base.resources
        } else {
            loader.resource_file(&target)?
        };
        for resource in found {
            append(loader, &mut resources, &mut seen, resource)?;
        }
    }
    check_count(context, &resources, loader)?;
    configurations
        .merge(Configurations::load(loader, &k.configurations)?)
        .map_err(|detail| loader.error(format!("configurations: {detail}")))?;
    configurations
        .merge(crds::load(loader, &k.crds)?)
        .map_err(|detail| loader.error(format!("crds: {detail}")))?;
    let generators = [
        (GeneratedKind::ConfigMap, &k.config_map_generator),
        (GeneratedKind::Secret, &k.secret_generator),
    ];
    for (kind, entries) in generators {
        for entry in entries.iter() {
            let generated = generator::generate(loader, kind, entry, k.generator_options.as_ref())?;
            generator::absorb(&mut resources, generated).map_err(|e| loader.fail(e))?;
        }
    }
    for chart in &k.helm_charts {
        for mut resource in helm_chart::inflate(loader, chart, k.helm_globals.as_ref())? {
            resource.configured_by = Some(build_metadata::HELM);
            append(loader, &mut resources, &mut seen, resource)?;
        }
    }
    plugin::generate(loader, &k.generators, &mut resources)?;
    check_count(context, &resources, loader)?;
    for path in &k.components {
        let target = loader.resolve(path)?;
        let sub = Loader::open(context, target)?;
        let sub_k =
            Kustomization::from_document(&sub.kustomization_file(), sub.read_kustomization()?)?;
        openapi::declare(&sub, &sub_k.openapi, false)?;
        if !sub_k.is_component() {
            return Err(sub.error(format!(
                "expected kind 'Component' for path '{}'",
                sub.dir.relative
            )));
        }
        let component = accumulate(
            context,
            &sub,
            &sub_k,
            Accumulated {
                resources,
                configurations,
                vars: declared,
            },
        )?;
        (resources, configurations, declared) = (
            component.resources,
            component.configurations,
            component.vars,
        );
    }
    transformers::run(loader, k, &mut resources, &configurations)?;
    check_count(context, &resources, loader)?;
    vars::declare(&mut resources, &mut declared, &k.vars).map_err(|e| loader.fail(e))?;
    Ok(Accumulated {
        resources,
        configurations,
        vars: declared,
    })
}

/// The objects of a kustomization so far against the render's limits: their number,
/// each one's size and their total size.
fn check_count(
    context: &Context<'_>,
    resources: &[Resource],
    loader: &Loader<'_, '_>,
) -> Result<()> {
    let limit = context.options.limits.max_objects;
    if resources.len() > limit {
        return Err(load::exceeded(
            "max_objects",
            limit as u64,
            &loader.kustomization_file(),
        ));
    }
    let mut tally = plumb_manifest::size::Tally::new(&context.options.limits);
    for resource in resources {
        tally
            .add(&resource.object, || resource.cur_id().describe())
            .map_err(|e| loader.fail(e.into()))?;
    }
    Ok(())
}

/// Identity as Kustomize compares ids, as a hashable key.
type IdKey = (String, String, String, String, String);

fn id_key(resource: &Resource) -> IdKey {
    let id = resource.cur_id();
    let namespace = id.effective_namespace().to_owned();
    (id.group, id.version, id.kind, id.name, namespace)
}

fn append(
    loader: &Loader<'_, '_>,
    resources: &mut Vec<Resource>,
    seen: &mut std::collections::HashSet<IdKey>,
    resource: Resource,
) -> Result<()> {
    let id = resource.cur_id();
    if !seen.insert(id_key(&resource)) {
        return Err(loader.error(format!(
            "may not add resource with an already registered id: {}",
            id.describe()
        )));
    }
    resources.push(resource);
    Ok(())
}

/// Kustomize's remote targets: URLs and the `host/org/repo` shorthands.
fn is_remote(path: &str) -> bool {
    path.contains("://")
        || path.starts_with("git@")
        || ["github.com/", "gitlab.com/", "bitbucket.org/"]
            .iter()
            .any(|host| path.starts_with(host))
}
