//! Real infrastructure for plumb's tests and benchmarks: a Kubernetes control plane and git
//! servers on loopback. No mocks — what passes here passes against the real thing.
//!
//! ```text
//!  scripts/test.sh ──▶ plumb-testkit control-plane ──▶ etcd + kube-apiserver + kube-controller-manager
//!        │                     │ writes cluster.json
//!        └──▶ cargo test ──▶ Cluster::shared() (PLUMB_TEST_CLUSTER) ──▶ one namespace per test
//!                        ├──▶ GitServer::start()  ──▶ git daemon + git http-backend, per test
//!                        ├──▶ SshServer::start()  ──▶ sshd serving the same repositories, per test
//!                        └──▶ Node::start()       ──▶ kube-scheduler + kubelet + containerd: Pods run
//! ```
//!
//! One control plane serves a whole test run: the test command starts it once and every
//! test binary finds it through [`SHARED_CLUSTER_ENV`]. Run alone (`cargo test -p x`), a
//! test binary starts its own on first use. No process outlives the run: see [`process`].

pub mod age;
pub mod blackhole;
pub mod cluster;
pub mod control_plane;
mod error;
pub mod git;
pub mod kubelet;
pub mod locations;
pub mod node;
pub mod process;
pub mod release;
pub mod wait;

pub use age::AgeKey;
pub use blackhole::Blackhole;
pub use cluster::{ADMIN, Cluster, SHARED_CLUSTER_ENV, UNPRIVILEGED};
pub use control_plane::ControlPlane;
pub use error::Error;
pub use git::{Author, GitServer, Repo, SshServer, WorkTree};
pub use node::Node;
pub use release::Release;
pub use wait::eventually;
