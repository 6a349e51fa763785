//! A repository is hostile input: whatever it holds, render reads nothing outside it,
//! never blocks, never exhausts memory — and every attack fails the render with an error
//! that names what was refused, with nothing rendered.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use plumb_render::{DirectoryOptions, Error, Limits, RenderOptions, render};

/// A repository inside a sandbox that also holds a secret file outside the repository.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let sandbox = Sandbox {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(sandbox.repo().join("app")).unwrap();
        std::fs::write(
            sandbox.dir.path().join("outside-secret.yaml"),
            "apiVersion: v1\nkind: Secret\nmetadata: {name: stolen}\nstringData: {key: hunter2}\n",
        )
        .unwrap();
        sandbox
    }

    fn repo(&self) -> std::path::PathBuf {
        self.dir.path().join("repo")
    }

    fn outside(&self) -> std::path::PathBuf {
        self.dir.path().join("outside-secret.yaml")
    }

    fn file(&self, path: &str, contents: &str) {
        let full = self.repo().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, contents).unwrap();
    }

    fn link(&self, path: &str, target: impl AsRef<Path>) {
        let full = self.repo().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        symlink(target, full).unwrap();
    }

    fn render(&self, path: &str) -> Result<plumb_render::Rendered, Error> {
        let options = RenderOptions {
            directory: DirectoryOptions {
                recursive: true,
                ..DirectoryOptions::default()
            },
            ..RenderOptions::default()
        };
        render(&self.repo(), path, &options)
    }
}

const GOOD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good}\n";

#[test]
fn an_absolute_application_path_is_refused() {
    let sandbox = Sandbox::new();
    let err = sandbox.render("/etc").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::PathOutsideRoot { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("absolute paths are not allowed"));
}

#[test]
fn climbing_out_with_dot_dot_is_refused() {
    let sandbox = Sandbox::new();
    let err = sandbox.render("app/../..").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::PathOutsideRoot { .. })
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("`..` leads above the repository root")
    );
}

#[test]
fn a_symlinked_manifest_pointing_outside_is_refused_by_name() {
    let sandbox = Sandbox::new();
    sandbox.file("app/good.yaml", GOOD);
    sandbox.link("app/innocent.yaml", sandbox.outside());

    let err = sandbox.render("app").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::SymlinkEscape { .. })
        ),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("symlink app/innocent.yaml points outside the repository"),
        "{message}"
    );
    assert!(!message.contains("hunter2"));
}

#[test]
fn a_relative_symlink_climbing_out_is_refused() {
    let sandbox = Sandbox::new();
    sandbox.link("app/up.yaml", "../../outside-secret.yaml");
    let err = sandbox.render("app").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::SymlinkEscape { .. })
        ),
        "{err}"
    );
}

#[test]
fn a_symlinked_directory_pointing_outside_is_refused() {
    let sandbox = Sandbox::new();
    sandbox.link("app/vendor", sandbox.dir.path());
    let err = sandbox.render("app").unwrap_err();
    assert!(
        err.to_string()
            .contains("symlink app/vendor points outside"),
        "{err}"
    );
}

#[test]
fn an_application_path_through_a_symlink_out_is_refused() {
    let sandbox = Sandbox::new();
    sandbox.link("escape", "/etc");
    let err = sandbox.render("escape/ssl").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::SymlinkEscape { .. })
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("symlink escape points outside"),
        "{err}"
    );
}

#[test]
fn a_dangling_symlink_aimed_outside_is_refused() {
    let sandbox = Sandbox::new();
    sandbox.link("app/later.yaml", "/nonexistent/plumb/secret.yaml");
    let err = sandbox.render("app").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::SymlinkEscape { .. })
        ),
        "{err}"
    );
}

#[test]
fn symlinks_that_stay_inside_the_repository_are_followed() {
    let sandbox = Sandbox::new();
    sandbox.file("shared/common.yaml", GOOD);
    sandbox.link("app/common.yaml", "../shared/common.yaml");
    let rendered = sandbox.render("app").unwrap();
    assert_eq!(rendered.objects.len(), 1);
    assert_eq!(
        rendered.objects.iter().next().unwrap().origin().path,
        "app/common.yaml"
    );
}

#[test]
fn a_symlink_loop_ends() {
    let sandbox = Sandbox::new();
    sandbox.file("app/good.yaml", GOOD);
    sandbox.link("app/loop", "..");
    let rendered = sandbox.render("app").unwrap();
    assert_eq!(rendered.objects.len(), 1);
}

#[test]
fn a_fifo_named_like_a_manifest_is_refused_without_blocking() {
    let sandbox = Sandbox::new();
    let fifo = sandbox.repo().join("app/pipe.yaml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let err = sandbox.render("app").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::NotARegularFile { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("app/pipe.yaml"));
}

#[test]
fn a_symlink_to_a_device_is_refused() {
    let sandbox = Sandbox::new();
    sandbox.link("app/zero.yaml", "/dev/zero");
    assert!(sandbox.render("app").is_err());
}

#[test]
fn a_huge_file_is_refused_before_it_is_read() {
    let sandbox = Sandbox::new();
    let file = std::fs::File::create(sandbox.repo().join("app/huge.yaml")).unwrap();
    file.set_len(64 * 1024 * 1024).unwrap(); // sparse: costs no disk
    let err = sandbox.render("app").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::FileTooLarge { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("limits.max_file_bytes"), "{err}");
}

#[test]
fn too_many_objects_are_refused() {
    let sandbox = Sandbox::new();
    let many: String = (0..50)
        .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n"))
        .collect();
    sandbox.file("app/many.yaml", &many);
    let options = RenderOptions {
        limits: Limits {
            max_objects: 20,
            ..Limits::default()
        },
        ..RenderOptions::default()
    };
    let err = render(&sandbox.repo(), "app", &options).unwrap_err();
    assert!(
        err.to_string().contains("budget") || err.to_string().contains("max_objects"),
        "{err}"
    );
}

#[test]
fn a_billion_laughs_document_is_refused_quickly() {
    let sandbox = Sandbox::new();
    let mut bomb = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
    let mut previous = "a";
    for name in names {
        bomb.push_str(&format!(
            "  {name}: &{name} [{}]\n",
            vec![format!("*{previous}"); 9].join(", ")
        ));
        previous = name;
    }
    sandbox.file("app/bomb.yaml", &bomb);
    let started = std::time::Instant::now();
    let err = sandbox.render("app").unwrap_err();
    assert!(err.to_string().contains("budget breached"), "{err}");
    // Not a timing assertion: a guard against an expansion that would take minutes or OOM.
    assert!(started.elapsed().as_secs() < 60);
}

/// A file of the controller's a tenant would aim a kustomization at (its service-account
/// token, another tenant's snapshot): here a mapping whose keys a kustomization parser
/// would echo back in an "unknown field" error if it ever read them.
const CONTROLLER_FILE: &str = "hunter2-token: eyJhbGciOiJSUzI1NiJ9\n";

#[test]
fn a_symlinked_kustomization_file_pointing_outside_is_refused_unread() {
    for name in ["kustomization.yaml", "kustomization.yml", "Kustomization"] {
        let sandbox = Sandbox::new();
        let token = sandbox.dir.path().join("token");
        std::fs::write(&token, CONTROLLER_FILE).unwrap();
        sandbox.file("app/cm.yaml", GOOD);
        sandbox.link(&format!("app/{name}"), &token);

        let err = sandbox.render("app").unwrap_err();
        assert!(
            matches!(
                err,
                Error::Manifest(plumb_manifest::Error::SymlinkEscape { .. })
            ),
            "{name}: {err}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&format!("symlink app/{name} points outside the repository")),
            "{message}"
        );
        assert!(!message.contains("hunter2"), "{message}");
    }
}

#[test]
fn a_base_whose_kustomization_file_links_outside_is_refused_unread() {
    let sandbox = Sandbox::new();
    let token = sandbox.dir.path().join("token");
    std::fs::write(&token, CONTROLLER_FILE).unwrap();
    sandbox.file("app/kustomization.yaml", "resources: [../base]\n");
    sandbox.link("base/kustomization.yaml", &token);

    let err = sandbox.render("app").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Manifest(plumb_manifest::Error::SymlinkEscape { .. })
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("symlink base/kustomization.yaml points outside"),
        "{err}"
    );
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn a_kustomization_file_linked_inside_the_repository_is_followed() {
    let sandbox = Sandbox::new();
    sandbox.file("shared/kustomization.yaml", "resources: [cm.yaml]\n");
    sandbox.file("app/cm.yaml", GOOD);
    sandbox.link("app/kustomization.yaml", "../shared/kustomization.yaml");

    let rendered = sandbox.render("app").unwrap();
    assert_eq!(rendered.objects.len(), 1);
    assert_eq!(
        rendered.objects.iter().next().unwrap().origin().path,
        "app/cm.yaml"
    );
}
