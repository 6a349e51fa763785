//! `plumb set-image PATH NAME=IMAGE[:TAG|@DIGEST]…`: CI's half of "the image tag is the
//! variable" — the new tag goes into the dev overlay's `images:`, as a commit.

use std::process::ExitCode;

use plumb_promote::{Edit, Verb, requested_image};

use crate::cli::SetImageArgs;
use crate::commands::{overlay_edit, render_options};

pub(crate) async fn run(args: &SetImageArgs) -> anyhow::Result<ExitCode> {
    let wanted = args
        .images
        .iter()
        .map(|arg| requested_image(arg))
        .collect::<Result<Vec<_>, _>>()?;
    let edit = Edit {
        root: &args.edit.root,
        path: args.path.clone(),
        options: render_options(&args.edit.keys)?.build_options(),
        wanted,
        verb: Verb::Set,
        strict: args.edit.strict,
    };
    overlay_edit::run(&edit, &args.edit).await
}
