//! A user encrypts a Secret with `plumb secrets` and anyone with the real `sops` reads it,
//! and the other way round; `plumb render` decrypts it with the key from SOPS_AGE_KEY_FILE
//! and still never prints the value unless asked.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\nstringData:\n  password: hunter2\n";

fn sops() -> PathBuf {
    std::env::var_os("PLUMB_SOPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| "sops".into())
}

/// A fresh age key from the real age-keygen: (key file, recipient).
fn age_key(dir: &Path) -> (PathBuf, String) {
    let key = plumb_testkit::AgeKey::generate(dir, "key").unwrap();
    (key.file, key.recipient)
}

fn plumb(args: &[&str], key_file: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plumb"));
    command
        .args(args)
        .env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_AGE_KEY_FILE");
    if let Some(key_file) = key_file {
        command.env("SOPS_AGE_KEY_FILE", key_file);
    }
    command.output().unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn plumb_encrypts_what_sops_decrypts_and_decrypts_what_sops_encrypts() {
    let dir = tempfile::tempdir().unwrap();
    let (key_file, recipient) = age_key(dir.path());
    let plain = dir.path().join("secret.yaml");
    std::fs::write(&plain, SECRET).unwrap();

    let by_plumb = ok(&plumb(
        &[
            "secrets",
            "encrypt",
            "--age",
            &recipient,
            "--encrypted-regex",
            "^(data|stringData)$",
            plain.to_str().unwrap(),
        ],
        None,
    ));
    assert!(!by_plumb.contains("hunter2") && by_plumb.contains("ENC[AES256_GCM,"));
    let encrypted = dir.path().join("by-plumb.yaml");
    std::fs::write(&encrypted, &by_plumb).unwrap();
    let read_by_sops = Command::new(sops())
        .args(["--decrypt"])
        .arg(&encrypted)
        .env("SOPS_AGE_KEY_FILE", &key_file)
        .output()
        .expect("the real sops runs (scripts/provision.sh installs it)");
    assert!(
        read_by_sops.status.success(),
        "{}",
        String::from_utf8_lossy(&read_by_sops.stderr)
    );
    assert!(String::from_utf8_lossy(&read_by_sops.stdout).contains("password: hunter2"));

    let by_sops = Command::new(sops())
        .args(["--encrypt", "--age", &recipient])
        .arg(&plain)
        .output()
        .unwrap();
    assert!(
        by_sops.status.success(),
        "{}",
        String::from_utf8_lossy(&by_sops.stderr)
    );
    let from_sops = dir.path().join("by-sops.yaml");
    std::fs::write(&from_sops, &by_sops.stdout).unwrap();
    let decrypted = ok(&plumb(
        &[
            "secrets",
            "decrypt",
            "--age-key-file",
            key_file.to_str().unwrap(),
            from_sops.to_str().unwrap(),
        ],
        None,
    ));
    assert!(decrypted.contains("hunter2"), "{decrypted}");
}

#[test]
fn render_decrypts_with_the_sops_key_file_and_masks_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (key_file, recipient) = age_key(dir.path());
    let app = dir.path().join("repo/app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("secret.yaml"), SECRET).unwrap();
    let path = app.join("secret.yaml");
    ok(&plumb(
        &[
            "secrets",
            "encrypt",
            "--in-place",
            "--age",
            &recipient,
            path.to_str().unwrap(),
        ],
        None,
    ));
    assert!(!std::fs::read_to_string(&path).unwrap().contains("hunter2"));
    let root = dir.path().join("repo");
    let root = root.to_str().unwrap();

    let refused = plumb(&["render", "app", "--root", root], None);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("SOPS-encrypted"));

    let masked = ok(&plumb(&["render", "app", "--root", root], Some(&key_file)));
    assert!(
        masked.contains("password: \"*****\"") && !masked.contains("hunter2"),
        "{masked}"
    );
    // The whole file was encrypted, `type` included; its value is no secret and stays shown.
    assert!(masked.contains("type: Opaque"), "{masked}");
    let shown = ok(&plumb(
        &["render", "app", "--root", root, "--show-secrets"],
        Some(&key_file),
    ));
    assert!(shown.contains("hunter2"), "{shown}");
}
