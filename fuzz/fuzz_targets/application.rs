#![no_main]
//! plumb-controller's `Application`, as the controller receives it from the API server
//! (JSON, deserialised by kube with serde), and what a reconcile reads from its spec before
//! it fetches anything: the interval, the revision, the repository's location (how webhooks
//! find the app), and the Helm values and `--set` parameters.
//!
//! Checks: never a panic, a hang or unbounded memory (each step is Ok or a typed error);
//! an Application written back and read again is the same (the controller keys its render
//! cache on the written spec); parameters that are accepted leave the values a map.

use libfuzzer_sys::fuzz_target;
use plumb_controller::Application;
use plumb_controller::application::parse_interval;
use plumb_source::{RepositoryLocation, Revision};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(app) = serde_json::from_slice::<Application>(data) else {
        return;
    };
    let written = serde_json::to_string(&app).expect("an Application serialises");
    let again: Application = serde_json::from_str(&written)
        .unwrap_or_else(|e| panic!("a written Application does not read back: {e}\n{written}"));
    assert_eq!(
        written,
        serde_json::to_string(&again).expect("serialises"),
        "not a fixed point"
    );

    let spec = &app.spec;
    // Any interval, however large, parses or is refused: never an overflow (fixed: it once
    // wrapped, and a due time past the clock panicked a worker); one that parses fits a year.
    if let Some(interval) = parse_interval(&spec.sync_policy.interval) {
        assert!(interval.as_secs() <= 365 * 24 * 3600, "{interval:?}");
    }
    if spec.source.chart.is_empty() {
        let _ = Revision::parse(&spec.source.revision);
    }
    let _ = RepositoryLocation::of(&spec.source.repo_url).canonical();

    let Some(helm) = &spec.source.helm else {
        return;
    };
    let mut layers = Vec::new();
    if !helm.values.trim().is_empty() {
        let Ok(values) = plumb_helm::read_values(&helm.values) else {
            return;
        };
        layers.push(values);
    }
    let mut values = plumb_helm::merge_user_values(&layers);
    for parameter in &helm.parameters {
        if plumb_helm::set_parameter(&mut values, &parameter.name, &parameter.value).is_err() {
            return;
        }
        assert!(
            matches!(values, Value::Object(_)),
            "the values are no longer a map: {values}"
        );
    }
});
