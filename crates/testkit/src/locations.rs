//! Where testkit finds its binaries and puts its scratch directories.
//!
//! The control-plane binaries are built once by `scripts/provision.sh` into a cache outside
//! the repository; every later run finds them there ([`crate::Release::bin_dir`]). Scratch directories of one run live
//! under one root (settable, so a test script can check that nothing of the run remains).

use std::path::{Path, PathBuf};

use crate::Error;

/// plumb's cache directory, shared with `scripts/provision.sh`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PLUMB_CACHE_DIR") {
        return dir.into();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("plumb")
}

/// The root under which every scratch directory of this run is made.
///
/// `PLUMB_TESTKIT_TMP` overrides (the test script sets it per run); default: the system
/// temporary directory.
pub fn scratch_root() -> PathBuf {
    std::env::var_os("PLUMB_TESTKIT_TMP")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

/// A fresh scratch directory, removed when the returned guard drops.
pub fn scratch_dir(prefix: &str) -> Result<tempfile::TempDir, Error> {
    let root = scratch_root();
    std::fs::create_dir_all(&root).map_err(Error::io(format!("create {}", root.display())))?;
    tempfile::Builder::new()
        .prefix(&format!("plumb-{prefix}-"))
        .tempdir_in(&root)
        .map_err(Error::io(format!(
            "create a directory in {}",
            root.display()
        )))
}

/// Finds `program`: in `dir` when given, else on `PATH`.
pub fn find_binary(program: &str, dir: Option<&Path>) -> Result<PathBuf, Error> {
    let candidates: Vec<PathBuf> = match dir {
        Some(dir) => vec![dir.join(program)],
        None => std::env::var_os("PATH")
            .map(|path| {
                std::env::split_paths(&path)
                    .map(|d| d.join(program))
                    .collect()
            })
            .unwrap_or_default(),
    };
    candidates
        .iter()
        .find(|candidate| candidate.is_file())
        .cloned()
        .ok_or_else(|| Error::MissingBinary {
            program: program.to_owned(),
            path: dir.map_or_else(|| Path::new("$PATH").join(program), |d| d.join(program)),
        })
}

/// A loopback TCP port that was free a moment ago.
///
/// The port is released before the caller binds it; a collision with another process in
/// that window shows up as a server that fails to start, and is reported as such.
pub fn free_port() -> Result<u16, Error> {
    let listener =
        std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(Error::io("bind a loopback port"))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(Error::io("read a bound port"))
}
