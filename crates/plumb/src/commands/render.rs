//! `plumb render`: what plumb would apply from a directory, without a cluster.

use std::process::ExitCode;

use plumb_render::{DesiredObject, Renderer};

use crate::cli::RenderArgs;
use crate::commands::render_source;
use crate::output;

pub(crate) fn run(args: &RenderArgs) -> anyhow::Result<ExitCode> {
    let rendered = render_source(&args.source)?;
    let documents = rendered.objects.iter().map(|object| {
        if args.show_secrets {
            serde_json::Value::Object(object.manifest().clone())
        } else {
            shown(object)
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

/// The object with its values masked. A Secret decrypted from a SOPS file keeps its `type`:
/// render masks every value of a decrypted object, but a Secret's type says what kind of
/// Secret it is (`kubernetes.io/tls`, `Opaque`), which a reader needs and no attacker gains.
fn shown(object: &DesiredObject) -> serde_json::Value {
    let mut shown = object.redacted();
    let id = object.id();
    if id.group.is_empty()
        && id.kind == "Secret"
        && let (Some(type_), Some(fields)) = (object.manifest().get("type"), shown.as_object_mut())
        && type_.is_string()
    {
        fields.insert("type".to_owned(), type_.clone());
    }
    shown
}
