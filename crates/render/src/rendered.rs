//! What a successful render returns, whichever format produced it.

use plumb_manifest::Ignored;

use crate::desired_set::DesiredSet;
use crate::format::Renderer;

/// The result of a successful render.
#[derive(Debug)]
pub struct Rendered {
    /// The renderer that was used.
    pub renderer: Renderer,
    /// The objects.
    pub objects: DesiredSet,
    /// Documents that were not objects, reported rather than applied.
    pub ignored: Vec<Ignored>,
}
