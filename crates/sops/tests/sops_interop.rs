//! Round trips between plumb and the real `sops` 3.11, both ways, for every format.
//!
//! sops → plumb: `sops --encrypt --age` writes the file, plumb decrypts it, and the result
//! must be what `sops --decrypt` gives. plumb → sops: plumb encrypts, and `sops --decrypt`
//! must give what it gives for the same plaintext encrypted by sops itself.

#[path = "support/sops.rs"]
mod support;

use plumb_sops::{self as sops, EncryptOptions, Format};
use support::{AgeKey, age_key, assert_same_yaml, fixture, sops_decrypt, sops_encrypt};

fn options(recipients: &[&AgeKey]) -> EncryptOptions {
    EncryptOptions {
        age_recipients: recipients.iter().map(|key| key.recipient.clone()).collect(),
        ..EncryptOptions::default()
    }
}

/// sops-encrypted → plumb-decrypted equals sops-decrypted; returns both outputs.
fn sops_to_plumb(
    dir: &std::path::Path,
    key: &AgeKey,
    plaintext: &[u8],
    format: Format,
    args: &[&str],
) -> (Vec<u8>, Vec<u8>) {
    let mut all = vec!["--age", key.recipient.as_str()];
    all.extend_from_slice(args);
    let encrypted = sops_encrypt(dir, plaintext, format, &all);
    assert!(sops::is_encrypted(&encrypted, format));
    let by_plumb = sops::decrypt(&encrypted, format, &key.identities)
        .unwrap_or_else(|error| panic!("plumb cannot decrypt sops' {format:?} file: {error}"));
    let by_sops = sops_decrypt(dir, &encrypted, format, key).unwrap();
    (by_plumb.as_bytes().to_vec(), by_sops)
}

/// plumb-encrypted → sops-decrypted; also decrypted by plumb. Returns (sops, plumb).
fn plumb_to_sops(
    dir: &std::path::Path,
    key: &AgeKey,
    plaintext: &[u8],
    format: Format,
    options: &EncryptOptions,
) -> (Vec<u8>, Vec<u8>) {
    let encrypted = sops::encrypt(plaintext, format, options).unwrap();
    assert!(sops::is_encrypted(&encrypted, format));
    let by_sops = sops_decrypt(dir, &encrypted, format, key).unwrap_or_else(|stderr| {
        panic!(
            "sops cannot decrypt plumb's {format:?} file: {stderr}\n{}",
            String::from_utf8_lossy(&encrypted)
        )
    });
    let by_plumb = sops::decrypt(&encrypted, format, &key.identities).unwrap();
    (by_sops, by_plumb.as_bytes().to_vec())
}

#[test]
fn yaml_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "key");
    let plaintext = fixture("app.yaml");

    let (plumb, reference) = sops_to_plumb(dir.path(), &key, &plaintext, Format::Yaml, &[]);
    assert_same_yaml(&plumb, &reference);

    let (by_sops, by_plumb) = plumb_to_sops(
        dir.path(),
        &key,
        &plaintext,
        Format::Yaml,
        &options(&[&key]),
    );
    assert_same_yaml(&by_sops, &reference);
    assert_same_yaml(&by_plumb, &reference);
}

#[test]
fn json_both_ways_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "key");
    let plaintext = fixture("app.json");

    let (plumb, reference) = sops_to_plumb(dir.path(), &key, &plaintext, Format::Json, &[]);
    assert_eq!(
        String::from_utf8(plumb).unwrap(),
        String::from_utf8(reference.clone()).unwrap()
    );

    let (by_sops, by_plumb) = plumb_to_sops(
        dir.path(),
        &key,
        &plaintext,
        Format::Json,
        &options(&[&key]),
    );
    assert_eq!(by_sops, reference);
    assert_eq!(by_plumb, reference);
}

#[test]
fn dotenv_both_ways_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "key");
    let plaintext = fixture("app.env");

    let (plumb, reference) = sops_to_plumb(dir.path(), &key, &plaintext, Format::Dotenv, &[]);
    assert_eq!(
        String::from_utf8(plumb).unwrap(),
        String::from_utf8(reference.clone()).unwrap()
    );
    assert_eq!(reference, plaintext, "sops keeps dotenv files as they are");

    let encrypted = sops::encrypt(&plaintext, Format::Dotenv, &options(&[&key])).unwrap();
    let text = String::from_utf8(encrypted).unwrap();
    assert!(text.contains("TOKEN_unencrypted=visible\n"), "{text}");
    assert!(text.contains("\nsops_version=3.11.0\n"), "{text}");
    let (by_sops, by_plumb) = plumb_to_sops(
        dir.path(),
        &key,
        &plaintext,
        Format::Dotenv,
        &options(&[&key]),
    );
    assert_eq!(by_sops, plaintext);
    assert_eq!(by_plumb, plaintext);
}

#[test]
fn binary_both_ways_with_non_utf8_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "key");
    let mut plaintext: Vec<u8> = (0..=255).collect();
    plaintext.extend_from_slice(b"\n-----BEGIN PRIVATE KEY-----\n\xff\xfe\n");

    let (plumb, reference) = sops_to_plumb(dir.path(), &key, &plaintext, Format::Binary, &[]);
    assert_eq!(reference, plaintext);
    assert_eq!(plumb, plaintext);

    let (by_sops, by_plumb) = plumb_to_sops(
        dir.path(),
        &key,
        &plaintext,
        Format::Binary,
        &options(&[&key]),
    );
    assert_eq!(by_sops, plaintext);
    assert_eq!(by_plumb, plaintext);
}

#[test]
fn kubernetes_secret_with_flux_encrypted_regex() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "key");
    let plaintext = fixture("secret.yaml");
    let regex = "^(data|stringData)$";

    let (plumb, reference) = sops_to_plumb(
        dir.path(),
        &key,
        &plaintext,
        Format::Yaml,
        &["--encrypted-regex", regex],
    );
    assert_same_yaml(&plumb, &reference);
    assert_same_yaml(&plumb, &plaintext);

    let options = EncryptOptions {
        encrypted_regex: Some(regex.to_owned()),
        ..options(&[&key])
    };
    let encrypted = sops::encrypt(&plaintext, Format::Yaml, &options).unwrap();
    let text = String::from_utf8(encrypted.clone()).unwrap();
    // Only data/stringData are encrypted; the rest stays readable for Kubernetes tooling.
    for clear in [
        "kind: Secret",
        "name: db-credentials",
        "namespace: apps",
        "type: Opaque",
    ] {
        assert!(text.contains(clear), "{clear} should stay clear:\n{text}");
    }
    for secret in ["YWRtaW4=", "czNjcjN0", "db.internal"] {
        assert!(
            !text.contains(secret),
            "{secret} should be encrypted:\n{text}"
        );
    }
    assert!(
        text.contains("encrypted_regex: \"^(data|stringData)$\""),
        "{text}"
    );
    let (by_sops, by_plumb) = plumb_to_sops(dir.path(), &key, &plaintext, Format::Yaml, &options);
    assert_same_yaml(&by_sops, &reference);
    assert_same_yaml(&by_plumb, &reference);
}

#[test]
fn multi_document_yaml_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "key");
    let plaintext = fixture("multi.yaml");

    let (plumb, reference) = sops_to_plumb(
        dir.path(),
        &key,
        &plaintext,
        Format::Yaml,
        &["--encrypted-regex", "^stringData$"],
    );
    assert_eq!(support::yaml_documents(&reference).len(), 2);
    assert_same_yaml(&plumb, &reference);

    let options = EncryptOptions {
        encrypted_regex: Some("^stringData$".into()),
        ..options(&[&key])
    };
    let (by_sops, by_plumb) = plumb_to_sops(dir.path(), &key, &plaintext, Format::Yaml, &options);
    assert_same_yaml(&by_sops, &reference);
    assert_same_yaml(&by_plumb, &reference);
}

#[test]
fn several_recipients_each_can_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    let one = age_key(dir.path(), "one");
    let two = age_key(dir.path(), "two");
    let plaintext = fixture("secret.yaml");

    let recipients = format!("{},{}", one.recipient, two.recipient);
    let encrypted = sops_encrypt(
        dir.path(),
        &plaintext,
        Format::Yaml,
        &["--age", &recipients],
    );
    let reference = sops_decrypt(dir.path(), &encrypted, Format::Yaml, &one).unwrap();
    let by_second = sops::decrypt(&encrypted, Format::Yaml, &two.identities).unwrap();
    assert_same_yaml(by_second.as_bytes(), &reference);

    let encrypted = sops::encrypt(&plaintext, Format::Yaml, &options(&[&one, &two])).unwrap();
    for key in [&one, &two] {
        let by_sops = sops_decrypt(dir.path(), &encrypted, Format::Yaml, key).unwrap();
        assert_same_yaml(&by_sops, &reference);
    }
}

#[test]
fn mac_only_encrypted_lets_clear_values_change() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "key");
    let plaintext = fixture("secret.yaml");
    let args = [
        "--encrypted-regex",
        "^(data|stringData)$",
        "--mac-only-encrypted",
    ];

    let (plumb, reference) = sops_to_plumb(dir.path(), &key, &plaintext, Format::Yaml, &args);
    assert_same_yaml(&plumb, &reference);

    let options = EncryptOptions {
        encrypted_regex: Some("^(data|stringData)$".into()),
        mac_only_encrypted: true,
        ..options(&[&key])
    };
    let encrypted = sops::encrypt(&plaintext, Format::Yaml, &options).unwrap();
    let text = String::from_utf8(encrypted).unwrap();
    assert!(text.contains("mac_only_encrypted: true"), "{text}");
    // A clear value outside the MAC may be edited: both tools still decrypt.
    let edited = text.replace("namespace: apps", "namespace: other");
    assert_ne!(edited, text);
    let by_sops = sops_decrypt(dir.path(), edited.as_bytes(), Format::Yaml, &key).unwrap();
    let by_plumb = sops::decrypt(edited.as_bytes(), Format::Yaml, &key.identities).unwrap();
    assert_same_yaml(by_plumb.as_bytes(), &by_sops);
    assert!(String::from_utf8_lossy(&by_sops).contains("namespace: other"));
}

#[test]
fn every_rule_sops_writes_is_honoured_on_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "key");
    let plaintext = b"# sops:enc\npassword: hunter2\nuser: admin\nuser_secret: s\npublic_key: pk\n\
                      list:\n  # sops:enc\n  - a\n  - b\n";
    let rules: [&[&str]; 5] = [
        &["--unencrypted-suffix", "_clear"],
        &["--encrypted-suffix", "_secret"],
        &["--unencrypted-regex", "^public"],
        &["--encrypted-comment-regex", "sops:enc"],
        &["--unencrypted-comment-regex", "sops:enc"],
    ];
    for args in rules {
        let (plumb, reference) = sops_to_plumb(dir.path(), &key, plaintext, Format::Yaml, args);
        assert_same_yaml(&plumb, &reference);
    }
    let options = EncryptOptions {
        unencrypted_regex: Some("^public".into()),
        ..options(&[&key])
    };
    let encrypted = sops::encrypt(plaintext, Format::Yaml, &options).unwrap();
    assert!(String::from_utf8_lossy(&encrypted).contains("public_key: pk"));
    let by_sops = sops_decrypt(dir.path(), &encrypted, Format::Yaml, &key).unwrap();
    assert_same_yaml(&by_sops, plaintext);
}
