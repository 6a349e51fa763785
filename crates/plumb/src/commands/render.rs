//! `plumb render`: what plumb would apply from a directory, without a cluster.

use std::process::ExitCode;

use crate::cli::RenderArgs;
use crate::commands::render_source;
use crate::output;

pub(crate) fn run(args: &RenderArgs) -> anyhow::Result<ExitCode> {
    let rendered = render_source(&args.source)?;
    let documents = rendered.objects.iter().map(|object| {
        if args.show_secrets {
            serde_json::Value::Object(object.manifest().clone())
        } else {
            object.redacted()
        }
    });
    output::yaml_documents(documents)?;
    Ok(ExitCode::SUCCESS)
}
