//! Fetches a repository of many files and deep history (default 10,000 files, 1,000
//! commits) over smart HTTP, then an update of one file, and reports time and bytes
//! received for the update against `git fetch` of the same update into a full clone by the
//! git CLI, in the same run.
//!
//! ```text
//! cargo run --release -p plumb-bench --bin source-fetch -- [--files N] [--commits N] [--trials N]
//! ```
#![allow(clippy::print_stdout, reason = "benchmarks report on their terminal")]

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use plumb_bench::{arg, report, run};
use plumb_source::{RepoSpec, Revision, Source, SourceConfig, Transfer};
use plumb_testkit::{Author, GitServer};

fn main() {
    let files = arg("--files", 10_000);
    let commits = arg("--commits", 1_000).max(1);
    let trials = arg("--trials", 3).max(1);
    let server = GitServer::start().expect("the git server starts");
    let repo = server.create_repo("bench").expect("a repository");
    fast_import(&repo.path, files, commits);
    println!(
        "source-fetch: {files} files, {commits} commits, smart HTTP, median of {trials} trials"
    );
    let work = repo.work_tree().expect("a work tree");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let spec = RepoSpec::new(&repo.http_url, Revision::parse("main").expect("a revision"));

    let mut first_fetch = vec![];
    let mut git_clone = vec![];
    let mut update = vec![];
    let mut update_bytes = vec![];
    let mut git_update = vec![];
    let mut git_update_bytes = vec![];
    for trial in 0..trials {
        let cache = tempfile::tempdir().expect("a cache directory");
        let source = Source::new(SourceConfig::new(cache.path())).expect("a source");
        let started = Instant::now();
        runtime
            .block_on(source.snapshot(&spec))
            .expect("the first fetch");
        first_fetch.push(started.elapsed());

        let clones = tempfile::tempdir().expect("a directory for the clone");
        let clone = clones.path().join("clone");
        let started = Instant::now();
        run(git(clones.path())
            .args(["clone", "--quiet", "--bare", &repo.http_url])
            .arg(&clone));
        git_clone.push(started.elapsed());

        work.write(
            &format!("apps/{:05}.yaml", trial % files),
            format!("kind: ConfigMap\nupdate: {trial}\n"),
        )
        .expect("a change");
        work.commit("Update one file", &Author::default())
            .expect("a commit");
        work.push().expect("a push");

        let started = Instant::now();
        let snapshot = runtime
            .block_on(source.snapshot(&spec))
            .expect("the update");
        update.push(started.elapsed());
        match snapshot.transfer() {
            Transfer::Fetched { bytes } => update_bytes.push(bytes),
            other => panic!("the update was not fetched: {other:?}"),
        }

        let before = pack_bytes(&clone);
        let started = Instant::now();
        run(git(&clone).args(["fetch", "--quiet", "origin", "+refs/heads/*:refs/heads/*"]));
        git_update.push(started.elapsed());
        git_update_bytes.push(pack_bytes(&clone) - before);
    }

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    report(
        "plumb first fetch + snapshot",
        ms(median(&mut first_fetch)),
        "ms",
    );
    report(
        "git clone --bare (baseline)",
        ms(median(&mut git_clone)),
        "ms",
    );
    let plumb = median(&mut update);
    let baseline = median(&mut git_update);
    report("plumb update of one file", ms(plumb), "ms");
    report("git fetch of the update (baseline)", ms(baseline), "ms");
    report(
        "plumb update / git fetch time",
        ms(plumb) / ms(baseline),
        "ratio",
    );
    let plumb_bytes = median(&mut update_bytes);
    let git_bytes = median(&mut git_update_bytes);
    report("plumb update bytes received", plumb_bytes as f64, "bytes");
    report(
        "git fetch bytes received (baseline)",
        git_bytes as f64,
        "bytes",
    );
}

fn median<T: Ord + Copy>(values: &mut [T]) -> T {
    values.sort();
    values[values.len() / 2]
}

/// git isolated from the machine's configuration, keeping received packs whole, so the
/// bytes received can be read from the pack files (as plumb's cache does).
fn git(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .args(["-c", "fetch.unpackLimit=1", "-c", "gc.auto=0"]);
    command
}

/// Bytes of pack files in a bare repository.
fn pack_bytes(git_dir: &Path) -> u64 {
    std::fs::read_dir(git_dir.join("objects/pack"))
        .expect("a pack directory")
        .flatten()
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "pack"))
        .map(|entry| entry.metadata().map_or(0, |m| m.len()))
        .sum()
}

/// Writes `commits` commits to `main` of the bare repository: the first adds `files`
/// manifests, each later one changes one of them.
fn fast_import(bare: &Path, files: usize, commits: usize) {
    let mut child = git(bare)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import starts");
    let mut input = std::io::BufWriter::new(child.stdin.take().expect("stdin is piped"));
    let mut time = 1_700_000_000u64;
    for commit in 0..commits {
        time += 60;
        let message = format!("Commit {commit}");
        write!(
            input,
            "commit refs/heads/main\ncommitter Bench <bench@plumb.dev> {time} +0000\ndata {}\n{message}\n",
            message.len()
        )
        .expect("fast-import input");
        let changed: Vec<usize> = if commit == 0 {
            (0..files).collect()
        } else {
            vec![(commit * 7919) % files]
        };
        for file in changed {
            let body = format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{file}\ndata:\n  revision: \"{commit}\"\n  padding: \"{}\"\n",
                "x".repeat(200)
            );
            write!(
                input,
                "M 644 inline apps/{file:05}.yaml\ndata {}\n{body}\n",
                body.len()
            )
            .expect("fast-import input");
        }
    }
    drop(input);
    assert!(
        child.wait().expect("fast-import ends").success(),
        "fast-import failed"
    );
}
