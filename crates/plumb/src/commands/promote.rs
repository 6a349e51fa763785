//! `plumb promote --from envs/staging --to envs/prod`: the target overlay is set to run
//! exactly the images the source overlay renders — a reviewed commit, reverted to roll
//! back.

use std::process::ExitCode;

use anyhow::Context as _;
use plumb_kustomize::overlay_images;
use plumb_promote::{Edit, Promotion, Verb};

use crate::cli::PromoteArgs;
use crate::commands::{overlay_edit, render_options};
use crate::output;

pub(crate) async fn run(args: &PromoteArgs) -> anyhow::Result<ExitCode> {
    let root = &args.edit.root;
    let options = render_options(&args.edit.keys)?.build_options();
    // The source is read once: a retry after someone else's push promotes the same
    // versions again on the new tip, not whatever the source says by then.
    let source = overlay_images(root, &args.from, &options, None)
        .with_context(|| format!("--from {} does not render", args.from))?;
    let target = overlay_images(root, &args.to, &options, None)
        .with_context(|| format!("--to {} does not render", args.to))?;
    let selection = Promotion {
        from: &args.from,
        to: &args.to,
        source: &source,
        target: &target,
        only: &args.images,
        strict: args.edit.strict,
    }
    .select()?;
    for warning in &selection.warnings {
        output::warn(warning);
    }
    let edit = Edit {
        root,
        path: args.to.clone(),
        options,
        wanted: selection.wanted,
        verb: Verb::Promote {
            from: args.from.clone(),
        },
        strict: args.edit.strict,
    };
    overlay_edit::run(&edit, &args.edit).await
}
