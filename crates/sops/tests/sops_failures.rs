//! What plumb says when a sops file cannot be decrypted: wrong key, tampering, key kinds
//! plumb does not support, malformed input. Files come from the real `sops` 3.11; where
//! it applies, the real sops is shown to refuse the same file.

#[path = "support/sops.rs"]
mod support;

use plumb_sops::{self as sops, Format, Identities, SopsError};
use support::{AgeKey, age_key, fixture, sops_decrypt, sops_encrypt};

const PLAINTEXT: &[u8] = b"password: hunter2\nuser_unencrypted: admin\nlist:\n  - a\n";

fn sops_file(dir: &std::path::Path, key: &AgeKey) -> String {
    let encrypted = sops_encrypt(dir, PLAINTEXT, Format::Yaml, &["--age", &key.recipient]);
    String::from_utf8(encrypted).unwrap()
}

fn decrypt(text: &str, key: &AgeKey) -> Result<Vec<u8>, SopsError> {
    sops::decrypt(text.as_bytes(), Format::Yaml, &key.identities).map(|p| p.as_bytes().to_vec())
}

/// The `ENC[…]` value of `name` in a sops YAML file.
fn enc_of<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no `{name}` in:\n{text}"))
}

#[test]
fn wrong_key_names_the_recipients() {
    let dir = tempfile::tempdir().unwrap();
    let owner = age_key(dir.path(), "owner");
    let stranger = age_key(dir.path(), "stranger");
    let text = sops_file(dir.path(), &owner);

    let error = decrypt(&text, &stranger).unwrap_err();
    let message = error.to_string();
    match &error {
        SopsError::NoMatchingKey { recipients } => {
            assert_eq!(recipients, std::slice::from_ref(&owner.recipient))
        }
        other => panic!("expected NoMatchingKey, got {other:?}"),
    }
    assert!(message.contains(&owner.recipient), "{message}");
    assert!(sops_decrypt(dir.path(), text.as_bytes(), Format::Yaml, &stranger).is_err());

    let none = sops::decrypt(text.as_bytes(), Format::Yaml, &Identities::default()).unwrap_err();
    assert!(matches!(none, SopsError::NoIdentities { .. }), "{none:?}");
    assert!(none.to_string().contains(&owner.recipient));
}

#[test]
fn changed_encrypted_value_is_a_mac_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "key");
    let text = sops_file(dir.path(), &key);
    let value = enc_of(&text, "password");
    // Flip the first character of the ciphertext to another base64 character.
    let data_start = "ENC[AES256_GCM,data:".len();
    let first = &value[data_start..=data_start];
    let flipped = if first == "A" { "B" } else { "A" };
    let tampered_value = format!(
        "{}{flipped}{}",
        &value[..data_start],
        &value[data_start + 1..]
    );
    let tampered = text.replace(value, &tampered_value);
    assert_ne!(tampered, text);

    match decrypt(&tampered, &key) {
        Err(SopsError::MacMismatch { path }) => assert_eq!(path.as_deref(), Some("password")),
        other => panic!("expected MacMismatch, got {other:?}"),
    }
    assert!(sops_decrypt(dir.path(), tampered.as_bytes(), Format::Yaml, &key).is_err());
}

#[test]
fn changed_clear_value_covered_by_the_mac_is_a_mac_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "key");
    let text = sops_file(dir.path(), &key);
    assert!(text.contains("user_unencrypted: admin\n"), "{text}");
    let tampered = text.replace("user_unencrypted: admin\n", "user_unencrypted: root\n");

    let error = decrypt(&tampered, &key).unwrap_err();
    assert!(
        matches!(error, SopsError::MacMismatch { path: None }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("the MAC does not match: the file was changed after encryption"),
        "{error}"
    );
    let refused = sops_decrypt(dir.path(), tampered.as_bytes(), Format::Yaml, &key).unwrap_err();
    assert!(refused.contains("MAC mismatch"), "{refused}");
}

#[test]
fn removed_value_or_changed_lastmodified_is_a_mac_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "key");
    let text = sops_file(dir.path(), &key);

    let without_list: String = text
        .lines()
        .filter(|line| !line.starts_with("list:") && !line.starts_with("    - ENC"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_ne!(without_list, text);
    let error = decrypt(&without_list, &key).unwrap_err();
    assert!(
        matches!(error, SopsError::MacMismatch { path: None }),
        "{error:?}"
    );
    assert!(sops_decrypt(dir.path(), without_list.as_bytes(), Format::Yaml, &key).is_err());

    let lastmodified = text
        .lines()
        .find(|line| line.trim_start().starts_with("lastmodified:"))
        .unwrap();
    let moved = text.replace(lastmodified, "    lastmodified: \"2020-01-01T00:00:00Z\"");
    let error = decrypt(&moved, &key).unwrap_err();
    assert!(
        matches!(error, SopsError::MacMismatch { path: None }),
        "{error:?}"
    );
    assert!(sops_decrypt(dir.path(), moved.as_bytes(), Format::Yaml, &key).is_err());
}

#[test]
fn pgp_only_file_is_clearly_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "key");
    // Written by sops 3.11 with a throw-away PGP key (`sops --encrypt --pgp <fp>`).
    let text = fixture("pgp-only.enc.yaml");
    assert!(sops::is_encrypted(&text, Format::Yaml));
    let error = sops::decrypt(&text, Format::Yaml, &key.identities).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, SopsError::UnsupportedKeyGroups { .. }),
        "{error:?}"
    );
    assert!(message.contains("1 pgp"), "{message}");
    assert!(
        message.contains("plumb supports age keys only"),
        "{message}"
    );
}

#[test]
fn shamir_key_groups_are_clearly_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let one = age_key(dir.path(), "one");
    let two = age_key(dir.path(), "two");
    let config = dir.path().join("sops-config.yaml");
    std::fs::write(
        &config,
        format!(
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age:\n          - {}\n      - age:\n          - {}\n",
            one.recipient, two.recipient
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_owned();
    let encrypted = sops_encrypt(dir.path(), PLAINTEXT, Format::Yaml, &["--config", &config]);
    let mut both = Identities::parse(&std::fs::read_to_string(&one.file).unwrap()).unwrap();
    both.extend(Identities::parse(&std::fs::read_to_string(&two.file).unwrap()).unwrap());
    let error = sops::decrypt(&encrypted, Format::Yaml, &both).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, SopsError::UnsupportedKeyGroups { .. }),
        "{error:?}"
    );
    assert!(message.contains("Shamir"), "{message}");
}

#[test]
fn malformed_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "key");
    let text = sops_file(dir.path(), &key);
    let value = enc_of(&text, "password");

    let truncated = text.replace(value, &value[..value.len() - 20]);
    let message = expect_malformed(decrypt(&truncated, &key));
    assert!(message.contains("`password`"), "{message}");

    let bad_base64 = text.replace(value, "ENC[AES256_GCM,data:!!!!,iv:AAAA,tag:AAAA,type:str]");
    let message = expect_malformed(decrypt(&bad_base64, &key));
    assert!(message.contains("not valid base64"), "{message}");

    let no_metadata = text.split("sops:").next().unwrap().to_owned();
    assert!(matches!(
        decrypt(&no_metadata, &key),
        Err(SopsError::NotEncrypted)
    ));
    assert!(matches!(
        decrypt("password: hunter2\n", &key),
        Err(SopsError::NotEncrypted)
    ));

    let broken_yaml = format!("{text}\n  : : [\n");
    expect_malformed(decrypt(&broken_yaml, &key));

    let broken_armor = text.replacen("-----END AGE ENCRYPTED FILE-----", "", 1);
    let message = expect_malformed(decrypt(&broken_armor, &key));
    assert!(message.contains(&key.recipient), "{message}");

    let no_lastmodified: String = text
        .lines()
        .filter(|line| !line.contains("lastmodified"))
        .map(|line| format!("{line}\n"))
        .collect();
    let message = expect_malformed(decrypt(&no_lastmodified, &key));
    assert!(message.contains("lastmodified"), "{message}");

    for (content, format) in [
        (&b"{\"data\": \"x\", \"sops\": {"[..], Format::Json),
        (
            b"A=1\nno equals sign\nsops_version=3.11.0\n",
            Format::Dotenv,
        ),
        (
            b"{\"other\": 1, \"sops\": {\"version\": \"3.11.0\"}}",
            Format::Binary,
        ),
        (b"\xff\xfe not utf8 sops", Format::Yaml),
    ] {
        let result = sops::decrypt(content, format, &key.identities);
        assert!(
            matches!(
                result,
                Err(SopsError::Malformed { .. } | SopsError::NotEncrypted)
            ),
            "{format:?}: {result:?}"
        );
    }
}

fn expect_malformed(result: Result<Vec<u8>, SopsError>) -> String {
    match result {
        Err(error @ SopsError::Malformed { .. }) => {
            let message = error.to_string();
            assert!(!message.contains("hunter2"), "{message}");
            message
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// Every prefix of real encrypted files, in every format, is rejected without a panic.
#[test]
fn truncated_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "key");
    let cases = [
        (fixture("app.yaml"), Format::Yaml),
        (fixture("app.json"), Format::Json),
        (fixture("app.env"), Format::Dotenv),
        (b"binary\x00\xff".to_vec(), Format::Binary),
    ];
    for (plaintext, format) in cases {
        let encrypted = sops_encrypt(dir.path(), &plaintext, format, &["--age", &key.recipient]);
        assert!(sops::decrypt(&encrypted, format, &key.identities).is_ok());
        for end in (0..encrypted.len()).step_by(13) {
            let prefix = &encrypted[..end];
            let _ = sops::is_encrypted(prefix, format);
            let result = sops::decrypt(prefix, format, &key.identities);
            if let Err(error) = result {
                let message = error.to_string();
                assert!(
                    !message.contains("s3cr3t"),
                    "{format:?} at {end}: {message}"
                );
            }
        }
    }
}

#[test]
fn debug_output_never_shows_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let key = age_key(dir.path(), "key");
    let text = sops_file(dir.path(), &key);
    let plaintext = sops::decrypt(text.as_bytes(), Format::Yaml, &key.identities).unwrap();
    let shown = format!("{plaintext:?} {:?}", key.identities);
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains("AGE-SECRET-KEY"), "{shown}");
    assert!(String::from_utf8_lossy(plaintext.as_bytes()).contains("hunter2"));
}
