#![no_main]
//! plumb-helm's Go templates: the input is the text of one template of a small chart (with
//! a `_helpers.tpl` of named templates, a few `.Files`, and small values), parsed and
//! executed as `helm template` would, then split into manifests.
//!
//! Checks: never a panic, a stack overflow, a hang, a leak or unbounded memory (Ok or a
//! typed error, within the render's bounds); the output stays within `max_output_bytes`; and a
//! render is deterministic — the same chart renders the same bytes twice (what keeps a
//! GitOps controller from seeing drift at every reconcile; random functions are seeded).

use std::collections::BTreeMap;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use plumb_helm::fuzzing::render;
use plumb_helm::{Capabilities, Chart, Metadata, RandomKey, RenderOptions, read_values};

const VALUES: &str = "\
replicaCount: 2
image:
  repository: registry.example/web
  tag: \"1.4.2\"
  pullPolicy: IfNotPresent
service: {type: ClusterIP, port: 80}
ingress:
  enabled: false
  hosts:
  - host: web.example
    paths: [/]
labels: {team: shop}
env:
- {name: MODE, value: production}
resources: {}
";

const HELPERS: &str = r#"{{- define "fuzz.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "fuzz.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- with .Values.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}
"#;

/// Most bytes the templates may write, and most steps they may take: smaller than a real
/// render's bounds (8 MiB, 20 million steps), which this build runs a hundred times slower.
const MAX_OUTPUT: usize = 1 << 20;
const MAX_STEPS: u64 = 100_000;

fn chart(template: &str) -> Chart {
    let files: BTreeMap<String, Vec<u8>> = [
        ("files/app.ini", "[server]\nport = 8080\n"),
        ("files/motd.txt", "welcome\n"),
        ("crds/widget.yaml", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n"),
    ]
    .into_iter()
    .map(|(name, text)| (name.to_owned(), text.as_bytes().to_vec()))
    .collect();
    Chart {
        metadata: Metadata {
            api_version: "v2".into(),
            name: "fuzz".into(),
            version: "0.1.0".into(),
            app_version: "1.4.2".into(),
            ..Metadata::default()
        },
        values: read_values(VALUES).expect("the target's values read"),
        schema: None,
        templates: vec![
            ("templates/_helpers.tpl".into(), HELPERS.into()),
            ("templates/fuzz.yaml".into(), template.into()),
        ],
        files: Arc::new(files),
        dependencies: Vec::new(),
        path: "fuzz".into(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(template) = std::str::from_utf8(data) else {
        return;
    };
    let chart = chart(template);
    let options = RenderOptions {
        release_name: "web".into(),
        namespace: "shop".into(),
        is_upgrade: false,
        values: read_values("replicaCount: 3\n").expect("user values read"),
        capabilities: Capabilities::helm_template_default(),
        max_output_bytes: MAX_OUTPUT,
        // Random functions draw from this key, so the same chart renders the same twice
        // (without one each render draws a fresh key, and `randAlphaNum` differs).
        random_key: Some(RandomKey::new([7; 32])),
    };
    let Ok(rendered) = render(&chart, &options, MAX_STEPS) else {
        return;
    };
    let written: usize = rendered
        .manifests
        .iter()
        .chain(&rendered.hooks)
        .map(|m| m.content.len())
        .sum();
    assert!(written <= MAX_OUTPUT, "{written} bytes written");
    let again = render(&chart, &options, MAX_STEPS).expect("a chart that rendered renders again");
    assert_eq!(
        rendered.helm_template_text(false),
        again.helm_template_text(false),
        "not deterministic"
    );
});
