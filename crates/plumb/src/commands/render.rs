//! `plumb render`: what plumb would apply from a directory, without a cluster.

use anyhow::Context as _;
use plumb_render::{DirectoryOptions, RenderOptions, render};

use crate::cli::RenderArgs;
use crate::output;

pub(crate) fn run(args: &RenderArgs) -> anyhow::Result<()> {
    let options = RenderOptions {
        directory: DirectoryOptions {
            recursive: args.recursive,
            include: args.include.clone(),
            exclude: args.exclude.clone(),
        },
        ..RenderOptions::default()
    };
    let rendered = render(&args.root, &args.path, &options)
        .with_context(|| format!("cannot render {}", args.path))?;
    for ignored in &rendered.ignored {
        output::warn(&format!("{}: ignored: {}", ignored.origin, ignored.reason));
    }
    let documents = rendered.objects.iter().map(|object| {
        if args.show_secrets {
            serde_json::Value::Object(object.manifest().clone())
        } else {
            object.redacted()
        }
    });
    output::yaml_documents(documents)
}
