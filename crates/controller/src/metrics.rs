//! What the controller counts, for Prometheus: reconcile durations, syncs, drift
//! corrections, Git fetches, Kubernetes API requests, webhook deliveries.
//!
//! One process-wide registry: the numbers are written from deep inside reconciles and
//! read by the server's `/metrics`, and a global is simpler than threading a handle through
//! every call for what is, by nature, process state. Per-app gauges (sync status, health)
//! are not here: the server derives them from the Applications it watches at scrape time.
//!
//! Label values come from Kubernetes names and fixed words, so cardinality is bounded by
//! the number of Applications.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Bucket bounds (seconds) of the duration histograms: a no-op reconcile is milliseconds,
/// a sync waiting on waves minutes.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

type Labels = Vec<(&'static str, String)>;

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bound, count) in BUCKETS.iter().zip(self.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }
}

struct Family<T> {
    help: &'static str,
    series: BTreeMap<Labels, T>,
}

#[derive(Default)]
struct Registry {
    counters: BTreeMap<&'static str, Family<u64>>,
    gauges: BTreeMap<&'static str, Family<f64>>,
    histograms: BTreeMap<&'static str, Family<Histogram>>,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Mutex::default)
}

fn with<R>(f: impl FnOnce(&mut Registry) -> R) -> R {
    f(&mut registry().lock().unwrap_or_else(|p| p.into_inner()))
}

/// Adds one to the counter `name` with `labels`.
pub fn count(name: &'static str, help: &'static str, labels: &[(&'static str, &str)]) {
    let labels = owned(labels);
    with(|r| {
        *r.counters
            .entry(name)
            .or_insert_with(|| Family {
                help,
                series: BTreeMap::new(),
            })
            .series
            .entry(labels)
            .or_default() += 1;
    });
}

/// Sets the gauge `name` with `labels` to `value`.
pub fn set(name: &'static str, help: &'static str, labels: &[(&'static str, &str)], value: f64) {
    let labels = owned(labels);
    with(|r| {
        r.gauges
            .entry(name)
            .or_insert_with(|| Family {
                help,
                series: BTreeMap::new(),
            })
            .series
            .insert(labels, value);
    });
}

/// Records `elapsed` in the histogram `name` with `labels`.
pub fn observe(
    name: &'static str,
    help: &'static str,
    labels: &[(&'static str, &str)],
    elapsed: Duration,
) {
    let labels = owned(labels);
    with(|r| {
        r.histograms
            .entry(name)
            .or_insert_with(|| Family {
                help,
                series: BTreeMap::new(),
            })
            .series
            .entry(labels)
            .or_default()
            .observe(elapsed.as_secs_f64());
    });
}

/// Removes every series of `namespace`/`name`: a deleted Application's series would
/// otherwise be kept, and exported, for the life of the process.
pub fn forget_app(namespace: &str, name: &str) {
    let of_app = |labels: &Labels| {
        labels
            .iter()
            .any(|(k, v)| *k == "namespace" && v == namespace)
            && labels.iter().any(|(k, v)| *k == "name" && v == name)
    };
    with(|r| {
        for family in r.counters.values_mut() {
            family.series.retain(|labels, _| !of_app(labels));
        }
        for family in r.histograms.values_mut() {
            family.series.retain(|labels, _| !of_app(labels));
        }
    });
}

fn owned(labels: &[(&'static str, &str)]) -> Labels {
    labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

/// Everything counted so far, in the Prometheus text format (version 0.0.4).
pub fn render() -> String {
    let mut out = String::new();
    with(|r| {
        for (name, family) in &r.counters {
            let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} counter", family.help);
            for (labels, value) in &family.series {
                let _ = writeln!(out, "{name}{} {value}", format_labels(labels, None));
            }
        }
        for (name, family) in &r.gauges {
            let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} gauge", family.help);
            for (labels, value) in &family.series {
                let _ = writeln!(out, "{name}{} {value}", format_labels(labels, None));
            }
        }
        for (name, family) in &r.histograms {
            let _ = writeln!(
                out,
                "# HELP {name} {}\n# TYPE {name} histogram",
                family.help
            );
            for (labels, histogram) in &family.series {
                for (bound, count) in BUCKETS.iter().zip(histogram.counts) {
                    let le = bound.to_string();
                    let _ = writeln!(
                        out,
                        "{name}_bucket{} {count}",
                        format_labels(labels, Some(&le))
                    );
                }
                let _ = writeln!(
                    out,
                    "{name}_bucket{} {}",
                    format_labels(labels, Some("+Inf")),
                    histogram.count
                );
                let plain = format_labels(labels, None);
                let _ = writeln!(out, "{name}_sum{plain} {}", histogram.sum);
                let _ = writeln!(out, "{name}_count{plain} {}", histogram.count);
            }
        }
    });
    out
}

/// `{a="1",b="2"}` with values escaped as the text format requires; `le` last.
pub fn format_labels(labels: &[(&'static str, String)], le: Option<&str>) -> String {
    let mut pairs: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some(le) = le {
        pairs.push(format!("le=\"{le}\""));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", pairs.join(","))
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_apps_series_are_forgotten() {
        let app = [("namespace", "team-gone"), ("name", "web")];
        let other = [("namespace", "team-gone"), ("name", "api")];
        count("plumb_forget_total", "A test counter.", &app);
        count("plumb_forget_total", "A test counter.", &other);
        observe(
            "plumb_forget_seconds",
            "A test histogram.",
            &app,
            Duration::from_millis(3),
        );
        forget_app("team-gone", "web");
        let text = render();
        assert!(
            !text.contains(r#"namespace="team-gone",name="web""#),
            "{text}"
        );
        assert!(
            text.contains(r#"plumb_forget_total{namespace="team-gone",name="api"} 1"#),
            "{text}"
        );
    }

    #[test]
    fn counters_and_histograms_render_in_the_text_format() {
        count("plumb_test_total", "A test counter.", &[("app", "a/\"b\"")]);
        count("plumb_test_total", "A test counter.", &[("app", "a/\"b\"")]);
        observe(
            "plumb_test_seconds",
            "A test histogram.",
            &[("app", "x")],
            Duration::from_millis(30),
        );
        let text = render();
        assert!(text.contains("# TYPE plumb_test_total counter\n"), "{text}");
        assert!(
            text.contains("plumb_test_total{app=\"a/\\\"b\\\"\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("plumb_test_seconds_bucket{app=\"x\",le=\"0.025\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("plumb_test_seconds_bucket{app=\"x\",le=\"0.05\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("plumb_test_seconds_bucket{app=\"x\",le=\"+Inf\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("plumb_test_seconds_count{app=\"x\"} 1\n"),
            "{text}"
        );
    }
}
