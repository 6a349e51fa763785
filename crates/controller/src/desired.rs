//! The desired state of one Application: its source resolved (`git ls-remote`), fetched
//! and rendered — or the revision rendered last, reused when nothing can have moved it.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use plumb_engine::{DiscoverySnapshot, NamespaceMetadata, PlanOptions};
use plumb_render::{
    Capabilities, DirectoryOptions, HelmOptions, KustomizeOptions, PackedSet, RenderOptions,
};
use plumb_source::{
    ChartArchive, ChartSpec, CommitId, CommitMetadata, Credentials, RepoSpec, Revision, Signature,
};
use tokio::time::Instant;

use crate::application::Application;
use crate::context::{AppState, Context, Desired};
use crate::error::{Error, Result};
use crate::identity::Acting;
use crate::metrics;
use crate::queue::Reasons;
use crate::secrets;

/// What the rendered desired set depends on besides the commit: the source spec and what
/// Kustomize was allowed to do (a policy change then renders again).
pub(crate) fn source_key(app: &Application, kustomize: &KustomizeOptions) -> String {
    let source = serde_json::to_string(&app.spec.source).unwrap_or_default();
    format!("{source} {kustomize:?}")
}

/// The rendered desired set: reused when nothing can have changed it, else fetched and
/// rendered.
pub(crate) async fn desired_state(
    ctx: &Context,
    app: &Application,
    acting: &Acting,
    kustomize: &KustomizeOptions,
    helm_external: Option<&str>,
    reasons: Reasons,
    state: &mut AppState,
) -> Result<Arc<Desired>> {
    let source_key = source_key(app, kustomize);
    let values_from = values_from(app, acting).await?;
    let values_from_key = serde_json::to_string(&values_from).unwrap_or_default();
    if let Some(desired) = &state.desired
        && desired.source_key == source_key
        && desired.values_from == values_from_key
        && !reasons.needs_resolve()
    {
        return Ok(Arc::clone(desired));
    }
    let key = app.key();
    let source = &app.spec.source;
    let inputs = Inputs {
        source_key,
        values_from,
        values_from_key,
    };
    if !source.chart.is_empty() {
        return chart_state(ctx, app, acting, kustomize, helm_external, inputs, state).await;
    }
    let Inputs {
        source_key,
        values_from,
        values_from_key,
    } = inputs;
    let revision = Revision::parse(&source.revision)?;
    let mut spec = RepoSpec::new(&source.repo_url, revision);
    if let Some(secret) = &source.secret_ref {
        spec.credentials =
            secrets::credentials(&acting.client, &key.namespace, &secret.name).await?;
    }
    // What made this app look happened before it was asked for: an answer Git gave since
    // (to another app of the same repository, after the same push) is new enough.
    let asked = state.asked.unwrap_or_else(std::time::Instant::now);
    let resolved = timed_git("resolve", ctx.source.resolve_since(&spec, asked)).await?;
    if let Some(desired) = &state.desired
        && desired.source_key == source_key
        && desired.values_from == values_from_key
        && desired.commit == resolved.commit.as_str()
    {
        return Ok(Arc::clone(desired));
    }
    let snapshot = timed_git("snapshot", ctx.source.snapshot_since(&spec, asked)).await?;
    let decryption = match &source.decryption {
        Some(decryption) if decryption.provider == "sops" => Some(
            secrets::age_identities(&acting.client, &key.namespace, &decryption.secret_ref.name)
                .await?,
        ),
        Some(other) => {
            return Err(Error::Spec(format!(
                "spec.source.decryption.provider {:?} is not supported (only \"sops\")",
                other.provider
            )));
        }
        None => None,
    };
    let options = RenderOptions {
        directory: source
            .directory
            .as_ref()
            .map(|d| DirectoryOptions {
                recursive: d.recurse,
                include: d.include.clone(),
                exclude: d.exclude.clone(),
            })
            .unwrap_or_default(),
        decryption,
        kustomize: kustomize.clone(),
        helm: HelmOptions {
            dependencies: helm_dependencies(ctx, app, acting, snapshot.root(), &source.path)
                .await?,
            external: helm_external.map(str::to_owned),
            ..helm_options(app, &acting.engine.discovery().await.0, values_from)?
        },
        random_key: Some(crate::random_key::app_key(&ctx.random_key, &key)),
        ..RenderOptions::default()
    };
    let commit = snapshot.commit().as_str().to_owned();
    let rendered = render(
        snapshot.root(),
        &source.path,
        options,
        &source.path,
        &commit,
    )
    .await?;
    let desired = Arc::new(Desired {
        commit,
        metadata: snapshot.metadata().clone(),
        source_key,
        values_from: values_from_key,
        set: PackedSet::pack(rendered.objects),
    });
    state.desired = Some(Arc::clone(&desired));
    Ok(desired)
}

/// The desired state of an app whose source is a chart in a Helm repository: the version
/// its range names now, fetched (or found in the cache by digest) and rendered.
async fn chart_state(
    ctx: &Context,
    app: &Application,
    acting: &Acting,
    kustomize: &KustomizeOptions,
    helm_external: Option<&str>,
    inputs: Inputs,
    state: &mut AppState,
) -> Result<Arc<Desired>> {
    let Inputs {
        source_key,
        values_from,
        values_from_key,
    } = inputs;
    let key = app.key();
    let source = &app.spec.source;
    let mut spec = ChartSpec {
        repo_url: source.repo_url.clone(),
        chart: source.chart.clone(),
        version: source.revision.clone(),
        credentials: Credentials::default(),
    };
    if let Some(secret) = &source.secret_ref {
        spec.credentials =
            secrets::credentials(&acting.client, &key.namespace, &secret.name).await?;
    }
    let archive = timed_git("chart", ctx.source.chart(&spec)).await?;
    if let Some(desired) = &state.desired
        && desired.source_key == source_key
        && desired.values_from == values_from_key
        && desired.commit == archive.digest
    {
        return Ok(Arc::clone(desired));
    }
    let options = RenderOptions {
        kustomize: kustomize.clone(),
        helm: HelmOptions {
            external: helm_external.map(str::to_owned),
            ..helm_options(app, &acting.engine.discovery().await.0, values_from)?
        },
        random_key: Some(crate::random_key::app_key(&ctx.random_key, &key)),
        ..RenderOptions::default()
    };
    let what = format!("{} {}", source.chart, archive.version);
    let rendered = render(&archive.dir, &archive.file, options, &what, &archive.digest).await?;
    let desired = Arc::new(Desired {
        commit: archive.digest.clone(),
        metadata: chart_metadata(&spec, &archive)?,
        source_key,
        values_from: values_from_key,
        set: PackedSet::pack(rendered.objects),
    });
    state.desired = Some(Arc::clone(&desired));
    Ok(desired)
}

/// Renders `path` of `root` off the async workers; a failure names `what` and `revision`.
async fn render(
    root: &std::path::Path,
    path: &str,
    options: RenderOptions,
    what: &str,
    revision: &str,
) -> Result<plumb_render::Rendered> {
    let (root, path_owned) = (root.to_path_buf(), path.to_owned());
    tokio::task::spawn_blocking(move || plumb_render::render(&root, &path_owned, &options))
        .await
        .map_err(|err| Error::Spec(format!("render task failed: {err}")))?
        .map_err(|source_error| Error::Render {
            path: what.to_owned(),
            revision: revision.to_owned(),
            source: source_error,
        })
}

/// What the history records of a chart version: its name and version as the message, the
/// repository as the author.
fn chart_metadata(spec: &ChartSpec, archive: &ChartArchive) -> Result<CommitMetadata> {
    let id = CommitId::new(&archive.digest).ok_or_else(|| {
        Error::Spec(format!(
            "chart archive digest {:?} is not a sha256",
            archive.digest
        ))
    })?;
    let signature = Signature {
        name: format!("Helm repository {}", spec.repo_url),
        email: String::new(),
        time: 0,
        utc_offset_minutes: 0,
    };
    Ok(CommitMetadata {
        id,
        parents: Vec::new(),
        author: signature.clone(),
        committer: signature,
        message: format!("{} {}", spec.chart, archive.version),
        signed: false,
    })
}

/// The archives of the dependencies a chart in Git declares without carrying them in
/// `charts/`, fetched from their repositories as `helm dependency build` would — with the
/// credentials `spec.source.helm.repositories` names for them, else anonymously (the app's
/// Git credentials are never sent to another host).
async fn helm_dependencies(
    ctx: &Context,
    app: &Application,
    acting: &Acting,
    root: &std::path::Path,
    path: &str,
) -> Result<Vec<std::path::PathBuf>> {
    let (root, path_owned) = (root.to_path_buf(), path.to_owned());
    let missing = tokio::task::spawn_blocking(move || {
        plumb_render::missing_helm_dependencies(
            &root,
            &path_owned,
            &plumb_render::Limits::default(),
        )
    })
    .await
    .map_err(|err| Error::Spec(format!("render task failed: {err}")))?
    .map_err(|source_error| Error::Render {
        path: path.to_owned(),
        revision: String::new(),
        source: source_error,
    })?;
    let mut archives = Vec::new();
    for dependency in missing {
        let fetchable = ["https://", "http://", "oci://"]
            .iter()
            .any(|s| dependency.repository.starts_with(s));
        if !fetchable {
            return Err(Error::Spec(format!(
                "{path}/Chart.yaml: dependency {:?} is not in charts/ and its repository {:?} cannot be fetched; commit it into charts/ (helm dependency build)",
                dependency.name, dependency.repository
            )));
        }
        let secret = app
            .spec
            .source
            .helm
            .iter()
            .flat_map(|h| &h.repositories)
            .find(|r| !r.url.is_empty() && dependency.repository.starts_with(&r.url));
        let credentials = match secret {
            Some(r) => {
                secrets::credentials(&acting.client, &app.key().namespace, &r.secret_ref.name)
                    .await?
            }
            None => Credentials::default(),
        };
        let spec = ChartSpec {
            repo_url: dependency.repository.clone(),
            chart: dependency.name.clone(),
            version: dependency.version.clone(),
            credentials,
        };
        let archive = timed_git("chart", ctx.source.chart(&spec)).await?;
        archives.push(archive.dir.join(&archive.file));
    }
    Ok(archives)
}

/// What a render depends on besides the commit.
struct Inputs {
    source_key: String,
    /// Helm values from ConfigMaps and Secrets, in order.
    values_from: Vec<serde_json::Value>,
    values_from_key: String,
}

/// The Helm values the app's `valuesFrom` names, read as the app's identity.
async fn values_from(app: &Application, acting: &Acting) -> Result<Vec<serde_json::Value>> {
    let Some(helm) = &app.spec.source.helm else {
        return Ok(Vec::new());
    };
    let namespace = app.key().namespace;
    let mut layers = Vec::new();
    for reference in &helm.values_from {
        let key = if reference.values_key.is_empty() {
            "values.yaml"
        } else {
            &reference.values_key
        };
        let what = format!("{} {namespace}/{}", reference.kind, reference.name);
        let text = match reference.kind.as_str() {
            "ConfigMap" => kube::Api::<ConfigMap>::namespaced(acting.client.clone(), &namespace)
                .get_opt(&reference.name)
                .await
                .map_err(|e| {
                    Error::Spec(format!(
                        "spec.source.helm.valuesFrom: cannot read {what}: {e}"
                    ))
                })?
                .and_then(|cm| cm.data.and_then(|mut data| data.remove(key))),
            "Secret" => kube::Api::<Secret>::namespaced(acting.client.clone(), &namespace)
                .get_opt(&reference.name)
                .await
                .map_err(|e| {
                    Error::Spec(format!(
                        "spec.source.helm.valuesFrom: cannot read {what}: {e}"
                    ))
                })?
                .and_then(|s| s.data.and_then(|mut data| data.remove(key)))
                .map(|bytes| String::from_utf8_lossy(&bytes.0).into_owned()),
            other => {
                return Err(Error::Spec(format!(
                    "spec.source.helm.valuesFrom: kind {other:?} is not ConfigMap or Secret"
                )));
            }
        };
        match text {
            Some(text) => layers.push(plumb_render::read_helm_values(&text).map_err(|e| {
                Error::Spec(format!(
                    "spec.source.helm.valuesFrom: {what} key {key}: {e}"
                ))
            })?),
            None if reference.optional => {}
            None => {
                return Err(Error::Spec(format!(
                    "spec.source.helm.valuesFrom: {what} has no key {key:?} (mark it optional if it may be missing)"
                )));
            }
        }
    }
    Ok(layers)
}

/// How the app's chart (if its path is one) is rendered: released under the app's name into
/// its destination namespace, told what the cluster serves, with its values from
/// ConfigMaps and Secrets under its inline values.
fn helm_options(
    app: &Application,
    discovery: &DiscoverySnapshot,
    mut layers: Vec<serde_json::Value>,
) -> Result<HelmOptions> {
    let spec = app.spec.source.helm.clone().unwrap_or_default();
    if !spec.values.trim().is_empty() {
        layers.push(plumb_helm_values(&spec.values)?);
    }
    let values = (!layers.is_empty()).then(|| plumb_render::merge_helm_values(&layers));
    let key = app.key();
    Ok(HelmOptions {
        release_name: Some(if spec.release_name.is_empty() {
            key.name.clone()
        } else {
            spec.release_name
        }),
        namespace: Some(
            app.spec
                .destination
                .namespace
                .clone()
                .unwrap_or(key.namespace),
        ),
        value_files: spec.value_files,
        ignore_missing_value_files: spec.ignore_missing_value_files,
        values,
        parameters: spec
            .parameters
            .into_iter()
            .map(|p| (p.name, p.value))
            .collect(),
        skip_crds: spec.skip_crds,
        capabilities: Some(capabilities(discovery)),
        dependencies: Vec::new(),
        external: None,
    })
}

fn plumb_helm_values(text: &str) -> Result<serde_json::Value> {
    plumb_render::read_helm_values(text)
        .map_err(|e| Error::Spec(format!("spec.source.helm.values is not a YAML map: {e}")))
}

/// `.Capabilities` from discovery: the server's version, and every group/version and
/// group/version/Kind it serves (as Helm fills them from a live cluster).
pub(crate) fn capabilities(discovery: &DiscoverySnapshot) -> Capabilities {
    let mut api_versions = std::collections::BTreeSet::new();
    for (resource, _) in &discovery.kinds {
        let group_version = if resource.group.is_empty() {
            resource.version.clone()
        } else {
            format!("{}/{}", resource.group, resource.version)
        };
        api_versions.insert(format!("{group_version}/{}", resource.kind));
        api_versions.insert(group_version);
    }
    let mut capabilities = Capabilities::helm_template_default();
    if let Some(minor) = discovery.server_minor {
        capabilities.kube_version = format!("v1.{minor}.0");
    }
    if !api_versions.is_empty() {
        capabilities.api_versions = api_versions.into_iter().collect();
    }
    capabilities
}

/// Runs a Git operation, recording its duration and failure for `/metrics`.
async fn timed_git<T>(
    operation: &'static str,
    work: impl std::future::Future<Output = plumb_source::Result<T>>,
) -> plumb_source::Result<T> {
    let started = Instant::now();
    let result = work.await;
    metrics::observe(
        "plumb_git_duration_seconds",
        "Git operations: resolve (ls-remote) and snapshot (fetch and check out).",
        &[("operation", operation)],
        started.elapsed(),
    );
    if result.is_err() {
        metrics::count(
            "plumb_git_errors_total",
            "Git operations that failed.",
            &[("operation", operation)],
        );
    }
    result
}

/// How the engine plans for `app`: its destination namespace, prune and self-heal, what to
/// ignore, namespaces to create.
pub(crate) fn plan_options(app: &Application) -> PlanOptions {
    let policy = &app.spec.sync_policy;
    PlanOptions {
        default_namespace: Some(
            app.spec
                .destination
                .namespace
                .clone()
                .unwrap_or_else(|| app.key().namespace),
        ),
        force_conflicts: policy.force_conflicts,
        prune: policy.automated.as_ref().is_some_and(|a| a.prune),
        allow_empty: policy.allow_empty,
        ignore_differences: app.spec.ignore_differences.clone(),
        cached_reads: true,
        create_namespaces: policy.create_namespace.then(|| {
            let metadata = policy
                .managed_namespace_metadata
                .clone()
                .unwrap_or_default();
            NamespaceMetadata {
                labels: metadata.labels,
                annotations: metadata.annotations,
            }
        }),
        deleting_app: false,
    }
}
