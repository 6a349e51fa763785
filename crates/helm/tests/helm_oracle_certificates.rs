//! plumb's `genCA`, `genSignedCert` and their kin make the certificates helm makes — same
//! subject, issuer, SANs, key usages, basic constraints, key type and size, validity length —
//! and they verify; only what is random in helm (keys, serials, signatures, the start time)
//! differs, and in plumb it is stable under one key.
//!
//! `helm template` draws new keys every run, so the bytes cannot be compared: each chart
//! under `tests/fixtures/certificates/` renders a Secret whose `data` holds PEMs (base64),
//! compared through `openssl x509 -noout -text` with the random parts masked. helm v4.3.2
//! (`PLUMB_HELM`) and openssl (both provisioned by scripts/provision.sh) are the oracles:
//! without them this test fails, it never skips.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use plumb_helm::{Capabilities, Chart, RandomKey, RenderOptions, render};
use plumb_manifest::{Limits, Root};

const RELEASE: &str = "rel";
const NAMESPACE: &str = "oracle-ns";

fn chart_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/certificates")
        .join(name)
}

fn plumb(dir: &Path, key: Option<RandomKey>) -> String {
    let root = Root::new(dir).unwrap();
    let chart = Chart::load(&root, ".", &Limits::default()).unwrap();
    let options = RenderOptions {
        release_name: RELEASE.into(),
        namespace: NAMESPACE.into(),
        is_upgrade: false,
        values: serde_json::json!({}),
        capabilities: Capabilities::helm_template_default(),
        max_output_bytes: 64 << 20,
        random_key: key,
    };
    render(&chart, &options).unwrap().helm_template_text(false)
}

fn helm(dir: &Path) -> String {
    let helm = std::env::var("PLUMB_HELM").expect(
        "PLUMB_HELM names the real helm, the oracle of this test (scripts/test.sh sets it)",
    );
    let home = tempfile::tempdir().unwrap();
    let output = Command::new(helm)
        .args(["template", RELEASE])
        .arg(dir)
        .args(["--namespace", NAMESPACE])
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .output()
        .expect("helm runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The `data` entries of the rendered Secret, decoded, and the text with their values masked.
fn split(text: &str) -> (BTreeMap<String, String>, String) {
    let mut data = BTreeMap::new();
    let mut masked = String::new();
    let mut in_data = false;
    for line in text.lines() {
        if !line.starts_with("  ") {
            in_data = line == "data:";
        } else if in_data && let Some((key, value)) = line.trim().split_once(": ") {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value)
                .unwrap();
            data.insert(key.to_owned(), String::from_utf8(bytes).unwrap());
            masked.push_str(&format!("  {key}: <masked>\n"));
            continue;
        }
        masked.push_str(line);
        masked.push('\n');
    }
    (data, masked)
}

fn openssl(args: &[&str], input: &str) -> String {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl runs (scripts/provision.sh installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// What openssl says of a certificate, less what is random: serial, key and signature
/// bytes, key identifiers, dates. The validity's length, in seconds, is kept.
fn described(pem: &str) -> String {
    let text = openssl(&["x509", "-noout", "-text"], pem);
    let mut out = String::new();
    let (mut start, mut end) = (0, 0);
    for line in text.lines() {
        let trimmed = line.trim();
        let hex = !trimmed.is_empty() && trimmed.chars().all(|c| c.is_ascii_hexdigit() || c == ':');
        if hex {
            continue;
        }
        if let Some(date) = trimmed.strip_prefix("Not Before: ") {
            start = seconds(date);
        } else if let Some(date) = trimmed.strip_prefix("Not After : ") {
            end = seconds(date);
        } else if !trimmed.starts_with("Serial Number:") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(&format!("validity: {} s\n", end - start));
    out
}

/// Seconds since 1970 of openssl's `Dec  4 16:52:17 2026 GMT`.
fn seconds(date: &str) -> i64 {
    let parts: Vec<&str> = date.split_whitespace().collect();
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[0])
    .unwrap() as i64
        + 1;
    let day: i64 = parts[1].parse().unwrap();
    let year: i64 = parts[3].parse().unwrap();
    let clock: Vec<i64> = parts[2].split(':').map(|p| p.parse().unwrap()).collect();
    // Days from civil (Howard Hinnant).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + clock[0] * 3600 + clock[1] * 60 + clock[2]
}

/// What a key is: its PEM label and openssl's first line of it.
fn key_kind(pem: &str) -> String {
    let label = pem.lines().next().unwrap_or_default().to_owned();
    let text = openssl(&["pkey", "-noout", "-text"], pem);
    format!("{label} {}", text.lines().next().unwrap_or_default())
}

fn verifies(ca: &str, leaf: &str) {
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    let out = openssl(
        &[
            "verify",
            "-CAfile",
            ca_file.to_str().unwrap(),
            "-purpose",
            "sslserver",
        ],
        leaf,
    );
    assert!(out.contains("OK"), "{out}");
}

#[test]
fn certificates_have_helm_s_shapes_verify_and_are_stable_under_a_key() {
    let dir = chart_dir("webhook");
    let key = RandomKey::new([5; 32]);
    let (want, want_masked) = split(&helm(&dir));
    let rendered = plumb(&dir, Some(key.clone()));
    let (got, got_masked) = split(&rendered);
    assert_eq!(want_masked, got_masked, "the documents around the PEMs");
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    for (name, want_pem) in &want {
        let got_pem = &got[name];
        if name.ends_with(".crt") {
            assert_eq!(described(want_pem), described(got_pem), "{name}");
        } else {
            assert_eq!(key_kind(want_pem), key_kind(got_pem), "{name}");
        }
    }
    assert_eq!(
        key_kind(&got["tls.key"]),
        "-----BEGIN RSA PRIVATE KEY----- Private-Key: (2048 bit, 2 primes)"
    );

    // plumb's certificates verify against their CA, and each key belongs to its certificate.
    verifies(&got["ca.crt"], &got["tls.crt"]);
    verifies(&got["keyed-ca.crt"], &got["keyed-leaf.crt"]);
    assert_eq!(
        openssl(&["x509", "-noout", "-modulus"], &got["tls.crt"]),
        openssl(&["rsa", "-noout", "-modulus"], &got["tls.key"])
    );
    assert_eq!(got["custom.crt"], got["tls.crt"]);
    // Not expired now, and more than half of its life left.
    openssl(
        &[
            "x509",
            "-noout",
            "-checkend",
            &(365 * 86_400 / 2).to_string(),
        ],
        &got["tls.crt"],
    );

    // The same key renders the same bytes; another key, or none, others.
    assert_eq!(plumb(&dir, Some(key)), rendered);
    assert_ne!(plumb(&dir, Some(RandomKey::new([6; 32]))), rendered);
    assert_ne!(plumb(&dir, None), rendered);
}
