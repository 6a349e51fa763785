//! `plumb set-image PATH NAME=IMAGE[:TAG|@DIGEST]…`: CI's half of "the image tag is the
//! variable" — the new tag goes into the dev overlay's `images:`, as a commit.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use plumb_kustomize::{FieldChange, ImageEntryChange, ImageRef, check_image_name};

use crate::cli::SetImageArgs;
use crate::commands::overlay_edit::{Edit, Verb, Want, Wanted};
use crate::commands::render_options;

pub(crate) async fn run(args: &SetImageArgs) -> anyhow::Result<ExitCode> {
    let wanted = args
        .images
        .iter()
        .map(|arg| wanted(arg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let edit = Edit {
        root: &args.edit.root,
        path: args.path.clone(),
        options: render_options(&args.edit.keys)?.build_options(),
        wanted,
        verb: Verb::Set,
        strict: args.edit.strict,
    };
    edit.run("set-image", &args.edit).await
}

/// `NAME=IMAGE[:TAG|@DIGEST]`: workloads using NAME run exactly IMAGE (and the tag or
/// digest, when given — giving one clears the other); `NAME:TAG` or `NAME@DIGEST`:
/// only the tag or digest changes. These are `kustomize edit set image`'s meanings.
fn wanted(arg: &str) -> anyhow::Result<Wanted> {
    let (name, image, renames) = match arg.split_once('=') {
        Some((name, image)) => {
            check_image_name(name)?;
            (name.to_owned(), ImageRef::parse(image)?, true)
        }
        None => {
            let image = ImageRef::parse(arg)
                .with_context(|| format!("{arg:?} is neither NAME=IMAGE[:TAG] nor NAME:TAG"))?;
            if image.tag.is_none() && image.digest.is_none() {
                bail!("{arg:?} says no tag or digest: write NAME=IMAGE[:TAG|@DIGEST] or NAME:TAG");
            }
            (image.name.clone(), image, false)
        }
    };
    let set = |value: &Option<String>| match value {
        Some(value) => FieldChange::Set(value.clone()),
        None => FieldChange::Remove,
    };
    let versioned = image.tag.is_some() || image.digest.is_some();
    let change = ImageEntryChange {
        new_name: match (renames, image.name == name) {
            (false, _) => FieldChange::Keep,
            (true, true) => FieldChange::Remove,
            (true, false) => FieldChange::Set(image.name.clone()),
        },
        new_tag: if versioned {
            set(&image.tag)
        } else {
            FieldChange::Keep
        },
        digest: if versioned {
            set(&image.digest)
        } else {
            FieldChange::Keep
        },
        ..ImageEntryChange::keep(&name)
    };
    let want = Want::Parts {
        name: renames.then(|| image.name.clone()),
        tag: versioned.then(|| image.tag.clone().unwrap_or_default()),
        digest: versioned.then(|| image.digest.clone().unwrap_or_default()),
    };
    Ok(Wanted {
        change,
        want,
        skip_if_rendered: false,
    })
}
