//! `plumb promote`: the target runs exactly what the source renders, a target that would not render is refused, and the controller applies a promotion and its revert.

use super::*;

#[test]
fn promote_copies_exactly_what_the_source_renders_and_refuses_a_target_that_would_not_render() {
    let (_server, repo) = repository();
    let clone = ci_clone(&repo);
    let dir = clone.path();
    // Dev runs a newer build and a newer proxy; staging takes both.
    let output = plumb_in(
        dir,
        &[
            "promote",
            "--from",
            "envs/dev",
            "--to",
            "envs/staging",
            "--commit",
            "--author",
            "Release Bot <release@example.com>",
        ],
        &[],
    );
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(
        kustomize_images(&dir.join("envs/staging")),
        kustomize_images(&dir.join("envs/dev")),
        "staging renders exactly dev's images"
    );
    let message = git(dir, &["log", "-1", "--format=%an <%ae>%n%B"]);
    assert!(
        message.starts_with(
            "Release Bot <release@example.com>\nenvs/staging: promote 2 images from envs/dev"
        ),
        "{message}"
    );
    assert!(
        message.contains(
            "- app: registry.example.com/team/app:1.2.0 -> registry.example.com/team/app:1.3.0"
        ),
        "{message}"
    );
    assert_eq!(
        git(dir, &["show", "--stat", "--format=", "HEAD"])
            .lines()
            .count(),
        2,
        "one file in the commit"
    );

    // Only the named image moves with --image.
    let output = plumb_in(
        dir,
        &[
            "promote",
            "--from",
            "envs/dev",
            "--to",
            "envs/prod",
            "--image",
            "app",
            "-o",
            "json",
            "--dry-run",
        ],
        &[],
    );
    let report = json_of(&output);
    assert_eq!(report["result"], "changed");
    assert_eq!(
        report["images"],
        json!([{"name": "app", "from": ["registry.example.com/team/app:1.1.0"], "to": ["registry.example.com/team/app:1.3.0"]}])
    );
    assert!(
        report["diff"]
            .as_str()
            .unwrap()
            .contains("+  newTag: 1.3.0"),
        "{report}"
    );

    // A target whose replacements would undo the promotion is refused, not half-promoted.
    std::fs::write(
        dir.join("envs/prod/pin.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pin\ndata:\n  image: registry.example.com/team/app:0.9.0\n",
    )
    .unwrap();
    let pinned = "\
resources:
- ../../base
- pin.yaml
images:
- name: app
  newName: registry.example.com/team/app
  newTag: 1.1.0
replacements:
- source: {kind: ConfigMap, name: pin, fieldPath: data.image}
  targets:
  - select: {kind: Deployment}
    fieldPaths: [spec.template.spec.containers.0.image]
";
    std::fs::write(dir.join("envs/prod/kustomization.yaml"), pinned).unwrap();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "prod pins its image"]);
    let head = git(dir, &["rev-parse", "HEAD"]);
    let output = plumb_in(
        dir,
        &[
            "promote",
            "--from",
            "envs/dev",
            "--to",
            "envs/prod",
            "--image",
            "app",
            "--commit",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("would run registry.example.com/team/app:0.9.0"),
        "{}",
        text(&output)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("envs/prod/kustomization.yaml")).unwrap(),
        pinned
    );
    assert_eq!(git(dir, &["rev-parse", "HEAD"]), head);

    // An overlay that does not render is refused before anything is edited.
    std::fs::remove_dir_all(dir.join("base")).unwrap();
    let output = plumb_in(
        dir,
        &["promote", "--from", "envs/staging", "--to", "envs/prod"],
        &[],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("does not render"),
        "{}",
        text(&output)
    );
}

#[tokio::test]
async fn a_promotion_is_applied_by_the_controller_and_its_revert_restores_the_previous_image() {
    let mut world = World::new("promotion", &seed()).await;
    world.start_controller(&[]);
    // The checkout pushes through the git daemon, as a CI runner would over the network.
    world
        .tree
        .git(&["remote", "set-url", "origin", &world.repo.git_url])
        .unwrap();
    let namespace = world.namespace.clone();
    world
        .create_app(
            "web-prod",
            "envs/prod",
            json!({"destination": {"namespace": namespace},
                   "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "interval": "1h"}}),
        )
        .await;
    let deployments: Api<Deployment> = Api::namespaced(world.client.clone(), &world.namespace);
    let image_is = |wanted: &'static str| {
        let deployments = deployments.clone();
        async move {
            eventually(&format!("web runs {wanted}"), PATIENCE, || async {
                let deployment = deployments.get_opt("web").await.ok()??;
                let image = deployment.spec?.template.spec?.containers[0]
                    .image
                    .clone()?;
                (image == wanted).then_some(())
            })
            .await;
        }
    };
    image_is("registry.example.com/team/app:1.1.0").await;

    let tree = world.tree.path().to_owned();
    let output = plumb_in(
        &tree,
        &[
            "promote",
            "--from",
            "envs/staging",
            "--to",
            "envs/prod",
            "--push",
            "--author",
            "Release Bot <release@example.com>",
        ],
        &[],
    );
    assert!(output.status.success(), "{}", text(&output));
    let promotion = world.repo.rev_parse("main").unwrap();
    world.request_reconcile("web-prod").await;
    image_is("registry.example.com/team/app:1.2.0").await;
    let app = world
        .until_app("web-prod", "synced at the promotion", |a| {
            support::synced_at(a, &promotion)
        })
        .await;
    let entry = &app.status.unwrap().history[0];
    assert_eq!(entry.author, "Release Bot <release@example.com>");
    assert!(entry.message.starts_with("envs/prod: promote app registry.example.com/team/app:1.2.0 from envs/staging (was registry.example.com/team/app:1.1.0)"), "{}", entry.message);

    // Rollback is the GitOps way: revert the promotion commit.
    world
        .tree
        .git(&[
            "-c",
            "user.name=Bob",
            "-c",
            "user.email=bob@example.com",
            "revert",
            "--no-edit",
            "HEAD",
        ])
        .unwrap();
    world.tree.push().unwrap();
    world.request_reconcile("web-prod").await;
    image_is("registry.example.com/team/app:1.1.0").await;
}
