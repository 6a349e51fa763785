//! Discovery kept on disk between runs, as kubectl keeps `~/.kube/cache/discovery`: a
//! push-mode command then plans at once instead of first asking the API server about every
//! group version (a third of a no-op `plumb apply`). Kept ten minutes per API server; a
//! kind missing from it makes the engine discover again, so a new CRD is never refused
//! for it.
//!
//! Where: `$PLUMB_CACHE_DIR`, else `$XDG_CACHE_HOME/plumb`, else `~/.cache/plumb`, under
//! `discovery/`. Any failure to read or write it only costs the discovery it would save.

use std::path::PathBuf;
use std::time::Duration;

use kube::Client;
use plumb_engine::{DiscoverySnapshot, Engine};

/// How long a kept discovery is trusted.
const KEPT_FOR: Duration = Duration::from_secs(600);

/// The kept discovery of one API server.
pub(crate) struct KeptDiscovery {
    path: Option<PathBuf>,
}

impl KeptDiscovery {
    /// For the API server at `server` (its URL).
    pub(crate) fn for_server(server: &str) -> KeptDiscovery {
        let base = std::env::var_os("PLUMB_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("plumb")))
            .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/plumb")));
        let file: String = server
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        KeptDiscovery {
            path: base.map(|base| base.join("discovery").join(format!("{file}.json"))),
        }
    }

    /// An engine, from the kept discovery when it is fresh, else from a new one.
    pub(crate) async fn engine(&self, client: Client) -> anyhow::Result<Engine> {
        if let Some(snapshot) = self.read() {
            return Ok(Engine::from_discovery(client, &snapshot));
        }
        Ok(Engine::new(client).await?)
    }

    /// Keeps what the engine discovered, when it asked the API server.
    pub(crate) async fn keep(&self, engine: &Engine) {
        let (snapshot, fresh) = engine.discovery().await;
        let Some(path) = &self.path else { return };
        if !fresh || snapshot.kinds.is_empty() {
            return;
        }
        let Ok(text) = serde_json::to_vec(&snapshot) else {
            return;
        };
        // Written whole, then renamed: a concurrent reader never sees half a file.
        let partial = path.with_extension(format!("{}.partial", std::process::id()));
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&partial, text))
            .and_then(|()| std::fs::rename(&partial, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
    }

    fn read(&self) -> Option<DiscoverySnapshot> {
        let path = self.path.as_ref()?;
        let age = std::fs::metadata(path)
            .ok()?
            .modified()
            .ok()?
            .elapsed()
            .ok()?;
        if age > KEPT_FOR {
            return None;
        }
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }
}
