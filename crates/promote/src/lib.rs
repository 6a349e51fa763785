//! Image edits of Kustomize overlays, as `plumb set-image` and `plumb promote` make them:
//! what to change, an edit rendered and checked before anything is written, then written,
//! committed or pushed — made again from the files whenever a push finds the branch moved.
//!
//! ```text
//!  NAME=IMAGE ──request──▶ Wanted ◀──selection── source overlay's rendered images
//!                            │
//!                       Edit::attempt  (kustomize: read, edit `images:`, render before/after,
//!                            │          check every container runs what was asked)
//!                            ▼
//!                         Attempt ──publish──▶ file written · commit · push with retry (source)
//! ```
//!
//! Kustomize knows nothing of Git and `source` nothing of overlays; this crate is where the
//! two meet, so the binary only turns flags into an [`Edit`] and prints the [`Outcome`].

mod attempt;
mod error;
mod message;
mod publish;
mod request;
mod selection;
mod want;

pub use attempt::{Attempt, Edit, ImageMove, Verb};
pub use error::{Error, Result};
pub use message::shown;
pub use publish::{Outcome, Publication};
pub use request::requested_image;
pub use selection::{Promotion, Selection};
pub use want::{Want, Wanted};
