//! `plumb render`: what plumb would apply from a directory, without a cluster.

use std::process::ExitCode;

use plumb_render::Renderer;

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
    if let Renderer::Kustomize(_) = rendered.renderer {
        // Exactly what `kubectl kustomize` prints for the same directory.
        output::kustomize_documents(documents)?;
    } else {
        output::yaml_documents(documents)?;
    }
    Ok(ExitCode::SUCCESS)
}
