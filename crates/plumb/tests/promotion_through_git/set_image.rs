//! `plumb set-image`: the overlay renders what was asked and nothing else in its file changes; bad input is refused and leaves the repository as it was.

use super::*;

#[test]
fn set_image_changes_what_the_overlay_renders_and_nothing_else_in_the_file() {
    let (_server, repo) = repository();
    let clone = ci_clone(&repo);
    let dir = clone.path();
    let output = plumb_in(
        dir,
        &[
            "set-image",
            "envs/dev",
            "app=registry.example.com/team/app:1.4.0",
            "nginx:1.27",
        ],
        &[],
    );
    assert!(output.status.success(), "{}", text(&output));
    let after = std::fs::read_to_string(dir.join("envs/dev/kustomization.yaml")).unwrap();
    // Every byte but the two edited values is as the team wrote it; the tags keep their
    // quoting, and `1.27` stays a string.
    assert_eq!(
        after,
        DEV.replace("newTag: \"1.3.0\"", "newTag: \"1.4.0\"")
            .replace("newTag: '1.26'", "newTag: '1.27'")
    );
    assert_eq!(
        kustomize_images(&dir.join("envs/dev")),
        ["registry.example.com/team/app:1.4.0", "nginx:1.27"]
    );
    // The diff was printed; running it again changes nothing and says so (exit 3).
    assert!(
        text(&output).contains("+    newTag: \"1.4.0\""),
        "{}",
        text(&output)
    );
    let again = plumb_in(
        dir,
        &[
            "set-image",
            "envs/dev",
            "app=registry.example.com/team/app:1.4.0",
        ],
        &[],
    );
    assert_eq!(again.status.code(), Some(3), "{}", text(&again));

    // A digest replaces the tag; a new entry lands in the file's own list style.
    let digest = "sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3";
    let output = plumb_in(
        dir,
        &[
            "set-image",
            "envs/prod",
            &format!("app=ghcr.io/team/app@{digest}"),
        ],
        &[],
    );
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(
        kustomize_images(&dir.join("envs/prod")),
        [format!("ghcr.io/team/app@{digest}"), "nginx:1.25".into()]
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("envs/prod/kustomization.yaml")).unwrap(),
        PROD.replace(
            "  newName: registry.example.com/team/app\n  newTag: 1.1.0\n",
            &format!("  newName: ghcr.io/team/app\n  digest: {digest}\n")
        )
    );
}

#[test]
fn bad_input_is_refused_clearly_and_the_repository_is_untouched() {
    let (_server, repo) = repository();
    let clone = ci_clone(&repo);
    let dir = clone.path();
    let head = git(dir, &["rev-parse", "HEAD"]);
    for (args, says) in [
        (vec!["set-image", "envs/qa", "app:1"], "envs/qa"),
        (
            vec!["set-image", "envs/dev", "app=Registry/App:1"],
            "not a valid image name",
        ),
        (
            vec!["set-image", "envs/dev", "app:"],
            "tag after ':' is empty",
        ),
        (
            vec!["set-image", "envs/dev", "app@sha256:abc"],
            "64 hex digits",
        ),
        (
            vec!["set-image", "envs/dev", "redis:7", "--strict"],
            "no workload of envs/dev uses image \"redis\"",
        ),
        (
            vec!["promote", "--from", "envs/nope", "--to", "envs/prod"],
            "--from envs/nope",
        ),
        (
            vec![
                "promote",
                "--from",
                "envs/dev",
                "--to",
                "envs/prod",
                "--image",
                "redis",
                "--strict",
            ],
            "no workload of envs/prod uses image \"redis\"",
        ),
    ] {
        let output = plumb_in(dir, &args, &[]);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(text(&output).contains(says), "{args:?}: {}", text(&output));
    }
    // Without --strict an unused name is a warning, and the entry is still written.
    let output = plumb_in(dir, &["set-image", "envs/dev", "redis:7", "--dry-run"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("warning: no workload of envs/dev uses image \"redis\""));
    assert_eq!(
        git(dir, &["status", "--porcelain"]),
        "",
        "nothing was written"
    );
    assert_eq!(
        git(dir, &["rev-parse", "HEAD"]),
        head,
        "nothing was committed"
    );
}
