//! Entry points for the fuzz targets in `fuzz/` at the repository's root; not an API.

use crate::chart::Chart;
use crate::error::Result;
use crate::render::{RenderOptions, Rendered, render_with_steps};

/// [`crate::render`] allowing at most `max_steps` steps: a fuzzing build runs templates a
/// hundred times slower than a release build, and an input that only runs long (within
/// the real budget of 20 million steps) is not a finding.
pub fn render(chart: &Chart, options: &RenderOptions, max_steps: u64) -> Result<Rendered> {
    render_with_steps(chart, options, max_steps)
}
