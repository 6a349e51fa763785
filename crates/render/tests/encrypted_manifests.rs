//! A repository holds Secrets encrypted with the real `sops`: render decrypts them in
//! memory with the age keys it is given, marks them so every later view masks them, and
//! refuses — rendering nothing — when the key is wrong or the file was tampered with.

#[path = "../../sops/tests/support/sops.rs"]
mod support;

use std::sync::Arc;

use plumb_render::{Error, MASK, RenderOptions, render};
use plumb_sops::{Format, Identities};
use support::{age_key, sops_encrypt};

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\ntype: Opaque\nstringData:\n  password: hunter2\n  user: admin\n";
const CONFIG: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {color: blue}\n";

fn options(identities: Identities) -> RenderOptions {
    RenderOptions {
        decryption: Some(Arc::new(identities)),
        ..RenderOptions::default()
    }
}

/// A repository with one sops-encrypted Secret (Flux's `encrypted_regex`) and a plain file.
fn repository(dir: &std::path::Path, recipient: &str) {
    let repo = dir.join("repo/app");
    std::fs::create_dir_all(&repo).unwrap();
    let args = [
        "--age",
        recipient,
        "--encrypted-regex",
        "^(data|stringData)$",
    ];
    let encrypted = sops_encrypt(dir, SECRET.as_bytes(), Format::Yaml, &args);
    assert!(!String::from_utf8_lossy(&encrypted).contains("hunter2"));
    std::fs::write(repo.join("secret.sops.yaml"), encrypted).unwrap();
    std::fs::write(repo.join("config.yaml"), CONFIG).unwrap();
}

#[test]
fn a_secret_encrypted_by_sops_renders_decrypted_and_marked() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "team");
    repository(dir.path(), &key.recipient);

    let rendered = render(&dir.path().join("repo"), "app", &options(key.identities)).unwrap();
    let secret = rendered
        .objects
        .iter()
        .find(|o| o.id().kind == "Secret")
        .unwrap();
    assert_eq!(secret.manifest()["stringData"]["password"], "hunter2");
    assert!(
        secret.manifest().get("sops").is_none(),
        "sops metadata is not applied"
    );
    assert!(secret.is_decrypted());
    assert_eq!(secret.redacted()["stringData"]["password"], MASK);
    assert!(!format!("{secret:?}").contains("hunter2"));
    let config = rendered
        .objects
        .iter()
        .find(|o| o.id().kind == "ConfigMap")
        .unwrap();
    assert!(!config.is_decrypted());
}

#[test]
fn without_keys_an_encrypted_file_fails_the_render() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "team");
    repository(dir.path(), &key.recipient);

    let err = render(&dir.path().join("repo"), "app", &RenderOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::DecryptionKeysMissing { .. })
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("app/secret.sops.yaml is SOPS-encrypted"),
        "{err}"
    );
}

#[test]
fn a_wrong_key_fails_the_render_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "team");
    let other = age_key(dir.path(), "other");
    repository(dir.path(), &key.recipient);

    let err = render(&dir.path().join("repo"), "app", &options(other.identities)).unwrap_err();
    assert!(
        matches!(err, Error::Manifest(plumb_manifest::Error::Sops { .. })),
        "{err}"
    );
    assert!(
        err.to_string().contains(&key.recipient),
        "names the recipient: {err}"
    );
}

#[test]
fn a_tampered_file_fails_the_mac_check() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "team");
    repository(dir.path(), &key.recipient);
    let path = dir.path().join("repo/app/secret.sops.yaml");
    // A cleartext value covered by the MAC, changed after encryption.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("type: Opaque", "type: kubernetes.io/tls");
    std::fs::write(&path, text).unwrap();

    let err = render(&dir.path().join("repo"), "app", &options(key.identities)).unwrap_err();
    assert!(err.to_string().contains("MAC"), "{err}");
}

/// A kustomization over the encrypted Secret: `extra` is appended to it.
fn kustomization(dir: &std::path::Path, recipient: &str, extra: &str) {
    repository(dir, recipient);
    std::fs::write(
        dir.join("repo/app/other.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {color: red}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("repo/app/kustomization.yaml"),
        format!("resources: [secret.sops.yaml, config.yaml, other.yaml]\n{extra}"),
    )
    .unwrap();
}

fn object<'a>(rendered: &'a plumb_render::Rendered, name: &str) -> &'a plumb_render::DesiredObject {
    rendered
        .objects
        .iter()
        .find(|o| o.id().name == name)
        .unwrap()
}

#[test]
fn a_replacement_cannot_launder_a_decrypted_value_into_an_unmasked_config_map() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "team");
    // The tenant's attempt: copy the decrypted password into a ConfigMap, whose values
    // diffs, status and the dashboard would show.
    kustomization(
        dir.path(),
        &key.recipient,
        "replacements:\n- source: {kind: Secret, name: db, fieldPath: stringData.password}\n  targets:\n  - select: {kind: ConfigMap, name: plain}\n    fieldPaths: [data.color]\n",
    );

    let rendered = render(&dir.path().join("repo"), "app", &options(key.identities)).unwrap();
    let laundered = object(&rendered, "plain");
    assert_eq!(laundered.manifest()["data"]["color"], "hunter2");
    assert!(laundered.is_decrypted(), "the mark follows the value");
    assert!(laundered.is_sensitive());
    assert_eq!(laundered.redacted()["data"]["color"], MASK);
    assert!(!laundered.redacted().to_string().contains("hunter2"));
    // What received nothing from the Secret is shown as before.
    let untouched = object(&rendered, "other");
    assert!(!untouched.is_decrypted());
    assert_eq!(untouched.redacted()["data"]["color"], "red");
}

#[test]
fn a_generator_merged_over_a_decrypted_secret_keeps_it_masked() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "team");
    kustomization(
        dir.path(),
        &key.recipient,
        "secretGenerator:\n- name: db\n  namespace: prod\n  behavior: merge\n  literals: [extra=1]\ngeneratorOptions: {disableNameSuffixHash: true}\n",
    );
    // Merging keeps the base's `data`: here the password, base64 as Secrets hold it.
    let with_data = SECRET.replace(
        "stringData:\n  password: hunter2\n  user: admin\n",
        "data:\n  password: aHVudGVyMg==\n",
    );
    let args = [
        "--age",
        key.recipient.as_str(),
        "--encrypted-regex",
        "^(data|stringData)$",
    ];
    let encrypted = sops_encrypt(dir.path(), with_data.as_bytes(), Format::Yaml, &args);
    std::fs::write(dir.path().join("repo/app/secret.sops.yaml"), encrypted).unwrap();

    let rendered = render(&dir.path().join("repo"), "app", &options(key.identities)).unwrap();
    let merged = object(&rendered, "db");
    assert_eq!(merged.manifest()["data"]["password"], "aHVudGVyMg==");
    assert!(merged.is_decrypted(), "the merged Secret keeps the mark");
    assert!(!merged.redacted().to_string().contains("aHVudGVyMg"));
}
