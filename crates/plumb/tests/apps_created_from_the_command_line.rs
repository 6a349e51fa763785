//! A newcomer creates an Application with `plumb app create` instead of writing YAML,
//! follows its first sync with `plumb sync` — which tells only what the controller did
//! with that request, never the state from before it — and deletes it with its objects.

mod support;

use support::{PATIENCE, World, config_map, text};

#[tokio::test]
async fn an_app_created_from_the_command_line_is_followed_and_deleted_with_its_objects() {
    let mut world = World::new("create", &[("app/a.yaml", &config_map("alpha", "1"))]).await;
    world.start_controller(&[]);
    let repo = world.repo.git_url.clone();
    let create = [
        "app",
        "create",
        "web",
        "--repo",
        &repo,
        "--path",
        "app",
        "--revision",
        "main",
    ];

    let dry_run = world.plumb(&[&create[..], &["--auto-sync", "--prune", "--dry-run"]].concat());
    assert!(dry_run.status.success(), "{}", text(&dry_run));
    let printed = String::from_utf8_lossy(&dry_run.stdout);
    assert!(
        printed.contains("kind: Application") && printed.contains("prune: true"),
        "{printed}"
    );
    assert!(
        world.apps().get_opt("web").await.unwrap().is_none(),
        "--dry-run creates nothing"
    );

    // Without --auto-sync nothing is applied until asked.
    let created = world.plumb(&create);
    assert!(created.status.success(), "{}", text(&created));
    assert!(text(&created).contains("created"), "{}", text(&created));
    let sync = world.plumb(&["sync", "web", "--timeout", "60s"]);
    assert!(sync.status.success(), "{}\n{}", text(&sync), world.logs());
    let lines: Vec<&str> = std::str::from_utf8(&sync.stdout).unwrap().lines().collect();
    assert_eq!(lines.first(), Some(&"sync of web requested"), "{lines:?}");
    assert!(
        lines[1].starts_with("sync #1 of ") && lines[1].contains("(Requested): Succeeded"),
        "the first thing told is the requested sync: {lines:?}"
    );
    assert!(
        lines.last().unwrap().starts_with("Synced Healthy at "),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains("Unknown")), "{lines:?}");
    world.until_config_map("alpha", Some("1")).await;

    let again = world.plumb(&create);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again).contains("already exists"), "{}", text(&again));

    let delete = world.plumb(&["app", "delete", "web", "--cascade", "--timeout", "60s"]);
    assert!(
        delete.status.success(),
        "{}\n{}",
        text(&delete),
        world.logs()
    );
    assert!(world.apps().get_opt("web").await.unwrap().is_none());
    world.until_config_map("alpha", None).await;
}

/// A sync asked for before the controller first sees the app (created while it was down, or
/// in the moment before its watch starts) is done once it does, and recorded as requested.
#[tokio::test]
async fn a_sync_requested_before_the_controller_starts_is_done_when_it_does() {
    let mut world = World::new("early", &[("app/a.yaml", &config_map("early", "1"))]).await;
    let repo = world.repo.git_url.clone();
    let created = world.plumb(&[
        "app",
        "create",
        "web",
        "--repo",
        &repo,
        "--path",
        "app",
        "--revision",
        "main",
    ]);
    assert!(created.status.success(), "{}", text(&created));
    let asked = world.plumb(&["sync", "web", "--no-wait"]);
    assert!(asked.status.success(), "{}", text(&asked));

    world.start_controller(&[]);
    world.until_config_map("early", Some("1")).await;
    // The sync's record is written once it has finished, a moment after its objects.
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let history = world.plumb(&["history", "web"]);
        if text(&history).contains("Requested") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}\n{}",
            text(&history),
            world.logs()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
