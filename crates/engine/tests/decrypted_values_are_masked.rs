//! Values that came out of a SOPS-encrypted file are never shown in a diff — not only in
//! Secrets: a decrypted ConfigMap is masked the same way, while a change stays visible.

mod common;

use std::sync::Arc;

use common::World;
use plumb_engine::{AppId, Change, Inventory};
use plumb_render::{DesiredSet, RenderOptions, render};
use plumb_sops::{self as sops, EncryptOptions, Format, Identities};
use plumb_testkit::AgeKey;

/// Renders one SOPS-encrypted ConfigMap whose `url` is `value`.
fn encrypted_set(recipient: &str, identities: Arc<Identities>, value: &str) -> DesiredSet {
    let dir = tempfile::tempdir().unwrap();
    let plain =
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\ndata:\n  url: {value}\n");
    let options = EncryptOptions {
        age_recipients: vec![recipient.to_owned()],
        ..EncryptOptions::default()
    };
    let encrypted = sops::encrypt(plain.as_bytes(), Format::Yaml, &options).unwrap();
    std::fs::write(dir.path().join("db.yaml"), encrypted).unwrap();
    let render_options = RenderOptions {
        decryption: Some(identities),
        ..RenderOptions::default()
    };
    render(dir.path(), ".", &render_options).unwrap().objects
}

#[tokio::test]
async fn a_decrypted_config_map_is_masked_in_the_diff() {
    let world = World::new("decrypted").await;
    let keys = tempfile::tempdir().unwrap();
    let key = AgeKey::generate(keys.path(), "team").unwrap();
    let identities = Arc::new(Identities::parse(&key.identity_text()).unwrap());
    let recipient = key.recipient;
    let app = AppId::new("app");

    let first = encrypted_set(
        &recipient,
        identities.clone(),
        "postgres://app:old-s3cret@db",
    );
    let plan = world
        .engine
        .plan(&app, &first, &Inventory::default(), &world.options())
        .await
        .unwrap();
    let result = world.engine.apply(&plan, &Default::default()).await;
    assert!(result.succeeded(), "{result:#?}");

    let second = encrypted_set(&recipient, identities, "postgres://app:new-s3cret@db");
    let plan = world
        .engine
        .plan(&app, &second, &result.inventory, &world.options())
        .await
        .unwrap();
    let action = &plan.actions[0];
    assert_eq!(action.change, Change::Update);
    let diff = &action.diff.as_ref().unwrap().text;
    assert!(
        !diff.contains("s3cret") && !diff.contains("postgres"),
        "{diff}"
    );
    assert!(
        diff.contains("(before)") && diff.contains("(after)"),
        "{diff}"
    );
}
