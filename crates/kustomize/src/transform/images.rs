//! `images`: new names, tags and digests for container images. Like Kustomize, it looks
//! at every `containers` and `initContainers` list anywhere in an object, then at the
//! image field specs.

use serde_json::Value;

use crate::fieldspec::{self, FieldSpec};
use crate::kustomization::Image;
use crate::resource::Resource;

/// The `ImageTagTransformer` plugin: every container, then the fields its own field
/// specs name, when their image matches.
pub(crate) fn with_specs(resources: &mut [Resource], image: &Image, specs: &[FieldSpec]) {
    apply(resources, image);
    let Some(pattern) = pattern(&image.name) else {
        return;
    };
    for resource in resources.iter_mut() {
        let id = resource.cur_id();
        let mut object = Value::Object(std::mem::take(&mut resource.object));
        for spec in specs.iter().filter(|s| s.selects(&id)) {
            let _ = fieldspec::visit::<()>(&mut object, &spec.path, false, &mut |v| {
                if let Value::String(current) = v
                    && pattern.is_match(current)
                {
                    *current = updated(current, image);
                }
                Ok(())
            });
        }
        resource.object = super::namespace::into_map(object);
    }
}

pub(crate) fn apply(resources: &mut [Resource], image: &Image) {
    let Some(pattern) = pattern(&image.name) else {
        return;
    };
    for resource in resources.iter_mut() {
        for value in resource.object.values_mut() {
            walk(value, image, &pattern);
        }
    }
}

/// What an entry named `name` matches: the name, then an optional tag and sha256 digest.
/// Kustomize puts the name into the expression unescaped, and so does plumb.
fn pattern(name: &str) -> Option<regex::Regex> {
    regex::Regex::new(&format!(
        "^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$"
    ))
    .ok()
}

/// Whether an `images:` entry named `name` rewrites `image`.
pub fn matches(name: &str, image: &str) -> bool {
    pattern(name).is_some_and(|p| p.is_match(image))
}

/// The images of every container the transformer looks at, with a JSON pointer to each
/// container, in the order it visits them.
pub(crate) fn containers(object: &serde_json::Map<String, Value>) -> Vec<(String, String)> {
    fn visit(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                    if matches!(key.as_str(), "containers" | "initContainers")
                        && let Value::Array(list) = child
                    {
                        for (index, container) in list.iter().enumerate() {
                            if let Some(Value::String(image)) = container.get("image") {
                                out.push((format!("{here}/{index}"), image.clone()));
                            }
                        }
                    }
                    visit(child, &here, out);
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    visit(item, &format!("{at}/{index}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (key, value) in object {
        visit(value, &format!("/{key}"), &mut out);
    }
    out
}

fn walk(value: &mut Value, image: &Image, pattern: &regex::Regex) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if matches!(key.as_str(), "containers" | "initContainers")
                    && let Value::Array(containers) = child
                {
                    for container in containers.iter_mut() {
                        if let Some(Value::String(current)) = container.get_mut("image")
                            && pattern.is_match(current)
                        {
                            *current = updated(current, image);
                        }
                    }
                }
                walk(child, image, pattern);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| walk(i, image, pattern)),
        _ => {}
    }
}

fn updated(current: &str, image: &Image) -> String {
    let (mut name, mut tag, mut digest) = split(current);
    if !image.new_name.is_empty() {
        name = image.new_name.clone();
    }
    if !image.new_tag.is_empty() && !image.digest.is_empty() {
        tag = image.new_tag.clone();
        digest = image.digest.clone();
    } else if !image.new_tag.is_empty() {
        tag = image.new_tag.clone();
        digest.clear();
    } else if !image.digest.is_empty() {
        tag.clear();
        digest = image.digest.clone();
    } else if !image.tag_suffix.is_empty() {
        tag.push_str(&image.tag_suffix);
        digest.clear();
    }
    if !tag.is_empty() {
        name = format!("{name}:{tag}");
    }
    if !digest.is_empty() {
        name = format!("{name}@{digest}");
    }
    name
}

/// `registry:5000/app:1.2@sha256:…` → (name, tag, digest), as Kustomize splits the
/// images it rewrites; a port is not a tag.
pub fn split(image: &str) -> (String, String, String) {
    let slash = image.find('/').filter(|&at| at > 0).unwrap_or(0);
    let search = &image[slash..];
    let at = search.find('@');
    let colon = search.find(':');
    match (colon, at) {
        (None, None) => (image.to_owned(), String::new(), String::new()),
        (c, Some(d)) if c.is_none_or(|c| d < c) => (
            image[..slash + d].to_owned(),
            String::new(),
            image[slash + d + 1..].to_owned(),
        ),
        (Some(c), Some(d)) => (
            image[..slash + c].to_owned(),
            image[slash + c + 1..slash + d].to_owned(),
            image[slash + d + 1..].to_owned(),
        ),
        (Some(c), None) => (
            image[..slash + c].to_owned(),
            image[slash + c + 1..].to_owned(),
            String::new(),
        ),
        (None, Some(_)) => unreachable!("handled by the guard above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_split_into_name_tag_and_digest() {
        assert_eq!(split("nginx"), ("nginx".into(), "".into(), "".into()));
        assert_eq!(
            split("reg:5000/app:1.2"),
            ("reg:5000/app".into(), "1.2".into(), "".into())
        );
        assert_eq!(
            split("app:1@sha256:ab"),
            ("app".into(), "1".into(), "sha256:ab".into())
        );
    }
}
