//! `plumb promote --from envs/staging --to envs/prod`: the target overlay is set to run
//! exactly the images the source overlay renders — a reviewed commit, reverted to roll
//! back.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use plumb_kustomize::{ContainerImage, FieldChange, ImageEntryChange, overlay_images, split_image};

use crate::cli::PromoteArgs;
use crate::commands::overlay_edit::{Edit, Verb, Want, Wanted};
use crate::commands::render_options;
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
    let mut names: Vec<String> = Vec::new();
    for container in &target {
        let name = split_image(&container.input).0;
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let selected: Vec<String> = if args.images.is_empty() {
        names
    } else {
        let mut selected = Vec::new();
        for asked in &args.images {
            let found: Vec<&String> = names
                .iter()
                .filter(|name| *name == asked || rendered_as(&target, name, asked))
                .collect();
            if found.is_empty() {
                let message = format!("no workload of {} uses image {asked:?}", args.to);
                if args.edit.strict {
                    bail!("{message} (--strict)");
                }
                output::warn(&format!("{message}; not promoted"));
            }
            selected.extend(found.into_iter().cloned());
        }
        selected
    };
    let mut wanted = Vec::new();
    for name in selected {
        let versions = source_versions(&source, &name);
        let image = match versions.as_slice() {
            [] => {
                let message = format!(
                    "image {name:?} of {} is used by no workload of {}; left as it is",
                    args.to, args.from
                );
                if args.edit.strict && !args.images.is_empty() {
                    bail!("{message} (--strict)");
                }
                output::warn(&message);
                continue;
            }
            [one] => one.clone(),
            many => bail!(
                "{} runs image {name:?} in several versions ({}); promote needs one — name the images to promote with --image, or make the source agree",
                args.from,
                many.join(", ")
            ),
        };
        let (new_name, tag, digest) = split_image(&image);
        let set = |value: &str| {
            if value.is_empty() {
                FieldChange::Remove
            } else {
                FieldChange::Set(value.to_owned())
            }
        };
        wanted.push(Wanted {
            change: ImageEntryChange {
                new_name: if new_name == name {
                    FieldChange::Remove
                } else {
                    FieldChange::Set(new_name.clone())
                },
                new_tag: set(&tag),
                digest: set(&digest),
                tag_suffix: FieldChange::Remove,
                ..ImageEntryChange::keep(&name)
            },
            want: Want::Exact(image),
            skip_if_rendered: true,
        });
    }
    let edit = Edit {
        root,
        path: args.to.clone(),
        options,
        wanted,
        verb: Verb::Promote {
            from: args.from.clone(),
        },
        strict: args.edit.strict,
    };
    edit.run("promote", &args.edit).await
}

/// Whether a target container using image `name` renders as repository `asked`.
fn rendered_as(target: &[ContainerImage], name: &str, asked: &str) -> bool {
    target
        .iter()
        .any(|c| split_image(&c.input).0 == name && split_image(&c.output).0 == asked)
}

/// The distinct images the source renders for containers given image `name`.
fn source_versions(source: &[ContainerImage], name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in source.iter().filter(|c| split_image(&c.input).0 == name) {
        if !out.contains(&c.output) {
            out.push(c.output.clone());
        }
    }
    out
}
