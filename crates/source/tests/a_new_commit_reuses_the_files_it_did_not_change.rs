//! A new commit's snapshot holds exactly that commit's files — changed ones rewritten,
//! deleted ones gone, new directories made, emptied ones removed — while the files it did
//! not change are shared with the previous snapshot rather than written again, and the
//! previous snapshot stays exactly as it was.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use common::{source, spec};
use plumb_testkit::{Author, GitServer};

/// Every file under `root` with its content, by relative path.
fn files(root: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                found.insert(relative, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_commit_reuses_the_files_it_did_not_change() {
    let server = GitServer::start().unwrap();
    let repo = server.create_repo("incremental").unwrap();
    let work = repo.work_tree().unwrap();
    work.write("kept.yaml", "kept\n").unwrap();
    work.write("changed.yaml", "before\n").unwrap();
    work.write("deleted.yaml", "gone soon\n").unwrap();
    work.write("emptied/only.yaml", "last one\n").unwrap();
    work.write("deep/er/kept.yaml", "deep\n").unwrap();
    work.write("swap", "a file that becomes a directory\n")
        .unwrap();
    work.commit("first", &Author::default()).unwrap();
    work.push().unwrap();
    let (source, _dir) = source();
    let first = source
        .snapshot(&spec(&repo.http_url, "main"))
        .await
        .unwrap();
    let first_files = files(first.root());

    work.write("changed.yaml", "after\n").unwrap();
    work.remove("deleted.yaml").unwrap();
    work.remove("emptied/only.yaml").unwrap();
    work.remove("swap").unwrap();
    work.write("swap/inside.yaml", "now a directory\n").unwrap();
    work.write("added/new.yaml", "new\n").unwrap();
    work.commit("second", &Author::default()).unwrap();
    work.push().unwrap();
    let second = source
        .snapshot(&spec(&repo.http_url, "main"))
        .await
        .unwrap();

    let expected: BTreeMap<String, String> = [
        ("added/new.yaml", "new\n"),
        ("changed.yaml", "after\n"),
        ("deep/er/kept.yaml", "deep\n"),
        ("kept.yaml", "kept\n"),
        ("swap/inside.yaml", "now a directory\n"),
    ]
    .into_iter()
    .map(|(path, text)| (path.to_owned(), text.to_owned()))
    .collect();
    assert_eq!(files(second.root()), expected);
    assert!(
        !second.root().join("emptied").exists(),
        "an emptied directory is gone"
    );
    assert_eq!(
        files(first.root()),
        first_files,
        "the first snapshot is untouched"
    );

    let inode = |root: &Path, path: &str| std::fs::metadata(root.join(path)).unwrap().ino();
    assert_eq!(
        inode(first.root(), "kept.yaml"),
        inode(second.root(), "kept.yaml"),
        "shared, not rewritten"
    );
    assert_eq!(
        inode(first.root(), "deep/er/kept.yaml"),
        inode(second.root(), "deep/er/kept.yaml")
    );
    assert_ne!(
        inode(first.root(), "changed.yaml"),
        inode(second.root(), "changed.yaml")
    );
}
