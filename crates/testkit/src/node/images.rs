//! The images a node needs and no registry can give here: the pause image every Pod's
//! sandbox runs, and a busybox image for workloads — both built from this machine's own
//! parts, written as OCI archives by `scripts/oci-archive` (the tool plumb's own image is
//! written with) and cached.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Error;
use crate::control_plane::run_command;
use crate::locations::cache_dir;

/// The sandbox image containerd is configured with.
pub const PAUSE_IMAGE: &str = "plumb.test/pause:1";
/// A workload image: Debian's static busybox as `/bin/busybox` and `/bin/sh`.
pub const BUSYBOX_IMAGE: &str = "plumb.test/busybox:1";

/// The pause program: sleeps as PID 1 of the Pod, reaps orphans, exits on SIGTERM/SIGINT.
const PAUSE_C: &str = r#"
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
static void stop(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, 0, WNOHANG) > 0) {} }
int main(void) {
    signal(SIGINT, stop);
    signal(SIGTERM, stop);
    signal(SIGCHLD, reap);
    for (;;) pause();
}
"#;

/// The archive of the pause image, built once (`gcc -static`).
pub(crate) fn pause_archive() -> Result<PathBuf, Error> {
    cached("pause-1.tar", |root| {
        let source = root.with_extension("c");
        std::fs::write(&source, PAUSE_C).map_err(Error::io("write pause.c"))?;
        let program = root.join("pause");
        run_command(
            Command::new("gcc")
                .args(["-static", "-Os", "-s", "-o"])
                .arg(&program)
                .arg(&source),
        )?;
        Ok((PAUSE_IMAGE, r#"["/pause"]"#))
    })
}

/// The archive of the busybox image, built once from Debian's busybox-static.
pub fn busybox_archive() -> Result<PathBuf, Error> {
    cached("busybox-1.tar", |root| {
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).map_err(Error::io("create bin/"))?;
        std::fs::create_dir_all(root.join("tmp")).map_err(Error::io("create tmp/"))?;
        std::fs::copy("/bin/busybox", bin.join("busybox")).map_err(Error::io(
            "copy /bin/busybox (Debian's busybox-static: run scripts/provision.sh)",
        ))?;
        std::os::unix::fs::symlink("busybox", bin.join("sh")).map_err(Error::io("link bin/sh"))?;
        Ok((BUSYBOX_IMAGE, r#"["/bin/busybox"]"#))
    })
}

/// Builds `name` in the cache unless it is there: `fill` puts the files into a root and
/// returns the image reference and entrypoint.
fn cached(
    name: &str,
    fill: impl FnOnce(&Path) -> Result<(&'static str, &'static str), Error>,
) -> Result<PathBuf, Error> {
    let dir = cache_dir().join("node-images");
    let archive = dir.join(name);
    if archive.is_file() {
        return Ok(archive);
    }
    std::fs::create_dir_all(&dir).map_err(Error::io(format!("create {}", dir.display())))?;
    let work = tempfile::tempdir_in(&dir).map_err(Error::io("make a build directory"))?;
    let root = work.path().join("root");
    std::fs::create_dir(&root).map_err(Error::io("create the image root"))?;
    let (reference, entrypoint) = fill(&root)?;
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/oci-archive");
    run_command(
        Command::new("python3")
            .arg(tool)
            .arg("--layer")
            .arg(&root)
            .args(["--name", reference, "--entrypoint", entrypoint, "--output"])
            .arg(&archive)
            .env("SOURCE_DATE_EPOCH", "0"),
    )?;
    Ok(archive)
}
