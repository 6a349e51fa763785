//! The head of a rendered document — `kind`, `metadata.name`, the `helm.sh/hook` annotation —
//! read straight from the YAML parser's events.
//!
//! Helm parses every rendered document to sort it (`releaseutil.SortManifests`), so a
//! document that is not YAML fails the render; plumb parses each one to the end for the same
//! reason. Going through serde cost a third of a render; the events alone are enough for
//! these three fields. Like Helm (go-yaml v2 into a map, then converted to the head's string
//! fields), a repeated key takes its last value and a scalar of any kind is its text. What this
//! reader does not follow — aliases or tags on these fields, a head field that is not a
//! scalar, a document that is not a mapping, a second document — it leaves to the full
//! deserializer ([`read`] returns `None`).

use granit_parser::{Event, Parser, StrInput};

/// What sorting needs of a document.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) kind: String,
    pub(crate) name: String,
    /// The `helm.sh/hook` annotation.
    pub(crate) hook: Option<String>,
}

/// The head of `doc`; `Ok(None)` when the full deserializer must decide; `Err` when `doc` is
/// not YAML.
pub(crate) fn read(doc: &str) -> Result<Option<Head>, String> {
    let mut events = Events(Parser::new_from_str_with_options(
        doc,
        plumb_manifest::yaml_parser_options(),
    ));
    let head = match (events.next()?, events.next()?, events.next()?) {
        (Some(Event::StreamStart), Some(Event::DocumentStart(..)), Some(start)) => {
            match mapping(&mut events, start, top)? {
                Some(head) => head,
                None => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    // The rest must parse, and be the end of the only document.
    match (events.next()?, events.next()?) {
        (Some(Event::DocumentEnd), Some(Event::StreamEnd)) => Ok(Some(head)),
        _ => Ok(None),
    }
}

/// The parser's events, comments left out.
struct Events<'a>(Parser<'a, StrInput<'a>>);

impl<'a> Events<'a> {
    fn next(&mut self) -> Result<Option<Event<'a>>, String> {
        loop {
            match self.0.next() {
                None => return Ok(None),
                Some(Err(e)) => return Err(e.to_string()),
                Some(Ok((event, _))) => match event {
                    Event::StreamStart
                    | Event::StreamEnd
                    | Event::DocumentStart(..)
                    | Event::DocumentEnd
                    | Event::Alias(_)
                    | Event::Scalar(..)
                    | Event::SequenceStart(..)
                    | Event::SequenceEnd
                    | Event::MappingStart(..)
                    | Event::MappingEnd => return Ok(Some(event)),
                    _ => {}
                },
            }
        }
    }

    /// Consumes the rest of a node that began with `start`. Helm converts the whole
    /// document to JSON, so a mapping key JSON cannot hold (null, a sequence or a mapping)
    /// fails it.
    fn skip(&mut self, start: &Event<'_>) -> Result<(), String> {
        // For each open collection: whether it is a mapping whose next node is a key.
        let mut open: Vec<Option<bool>> = match start {
            Event::SequenceStart(..) => vec![None],
            Event::MappingStart(..) => vec![Some(true)],
            _ => return Ok(()),
        };
        while let Some(top) = open.last().copied() {
            let event = self
                .next()?
                .ok_or("the document ends inside a collection")?;
            if matches!(event, Event::SequenceEnd | Event::MappingEnd) {
                open.pop();
                continue;
            }
            if let Some(is_key) = top {
                if is_key {
                    check_key(&event)?;
                }
                if let Some(last) = open.last_mut() {
                    *last = Some(!is_key);
                }
            }
            match event {
                Event::SequenceStart(..) => open.push(None),
                Event::MappingStart(..) => open.push(Some(true)),
                _ => {}
            }
        }
        Ok(())
    }
}

/// A mapping key sigs.k8s.io/yaml cannot turn into a JSON key fails the document, as in Helm.
fn check_key(event: &Event<'_>) -> Result<(), String> {
    if is_null(event) {
        return Err("unsupported map key of type: <nil>".into());
    }
    if matches!(event, Event::SequenceStart(..) | Event::MappingStart(..)) {
        return Err("unsupported map key: a sequence or a mapping".into());
    }
    Ok(())
}

/// Reads one entry of a mapping into `T`: `Ok(None)` when the full deserializer must decide.
type Entry<'a, T> = fn(&mut T, &str, Event<'a>, &mut Events<'a>) -> Result<Option<()>, String>;

/// Reads an untagged mapping that began with `start`, calling `entry` for each plain key
/// with its value's first event; `None` when `start` is not such a mapping, or an entry
/// says the full deserializer must decide.
fn mapping<'a, T: Default>(
    events: &mut Events<'a>,
    start: Event<'a>,
    entry: Entry<'a, T>,
) -> Result<Option<T>, String> {
    if !matches!(start, Event::MappingStart(_, _, None)) {
        return Ok(None);
    }
    let mut out = T::default();
    loop {
        let key = match events.next()? {
            Some(Event::MappingEnd) => return Ok(Some(out)),
            Some(key) if is_null(&key) => return check_key(&key).map(|()| None),
            Some(Event::Scalar(key, _, _, None)) => key,
            _ => return Ok(None),
        };
        let Some(value) = events.next()? else {
            return Err("the document ends after a key".into());
        };
        if entry(&mut out, &key, value, events)?.is_none() {
            return Ok(None);
        }
    }
}

fn top<'a>(
    head: &mut Head,
    key: &str,
    value: Event<'a>,
    events: &mut Events<'a>,
) -> Result<Option<()>, String> {
    match key {
        "kind" => Ok(scalar(value).map(|kind| head.kind = kind)),
        "metadata" => {
            if let Event::Scalar(..) = value {
                return Ok(is_null(&value).then_some(()));
            }
            let Some(metadata) = mapping(events, value, metadata)? else {
                return Ok(None);
            };
            *head = Head {
                kind: std::mem::take(&mut head.kind),
                ..metadata
            };
            Ok(Some(()))
        }
        _ => events.skip(&value).map(Some),
    }
}

fn metadata<'a>(
    head: &mut Head,
    key: &str,
    value: Event<'a>,
    events: &mut Events<'a>,
) -> Result<Option<()>, String> {
    match key {
        "name" => Ok(scalar(value).map(|name| head.name = name)),
        "annotations" => {
            if let Event::Scalar(..) = value {
                return Ok(is_null(&value).then(|| head.hook = None));
            }
            let Some(annotations) = mapping(events, value, annotation)? else {
                return Ok(None);
            };
            let Hook(hook) = annotations;
            head.hook = hook;
            Ok(Some(()))
        }
        _ => events.skip(&value).map(Some),
    }
}

#[derive(Default)]
struct Hook(Option<String>);

fn annotation<'a>(
    hook: &mut Hook,
    key: &str,
    value: Event<'a>,
    _: &mut Events<'a>,
) -> Result<Option<()>, String> {
    let Some(text) = scalar(value) else {
        return Ok(None);
    };
    if key == "helm.sh/hook" {
        hook.0 = Some(text);
    }
    Ok(Some(()))
}

/// An untagged scalar's text as a Go string field gets it (`null` is empty).
fn scalar(event: Event<'_>) -> Option<String> {
    if is_null(&event) {
        return Some(String::new());
    }
    match event {
        Event::Scalar(text, _, _, None) => Some(text.into_owned()),
        _ => None,
    }
}

/// A plain `null`, `~` or nothing.
fn is_null(event: &Event<'_>) -> bool {
    matches!(
        event,
        Event::Scalar(text, granit_parser::ScalarStyle::Plain, _, None)
            if matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(kind: &str, name: &str, hook: Option<&str>) -> Option<Head> {
        Some(Head {
            kind: kind.into(),
            name: name.into(),
            hook: hook.map(String::from),
        })
    }

    #[test]
    fn kind_name_and_hook_from_events() {
        let doc = "apiVersion: v1\nkind: Job # c\nmetadata:\n  labels: {a: [1, {b: 2}]}\n  name: \"j\"\n  annotations:\n    x: 5\n    helm.sh/hook: pre-install\nspec:\n  - a\n";
        assert_eq!(read(doc), Ok(head("Job", "j", Some("pre-install"))));
        assert_eq!(read("kind: A\nkind: B\n"), Ok(head("B", "", None)));
        assert_eq!(read("kind:\nmetadata: ~\n"), Ok(head("", "", None)));
        // Left to the deserializer.
        for doc in [
            "- a",
            "kind: !!str x",
            "kind: [x]",
            "a: &x 1\nkind: *x",
            "metadata: 5",
            "a: 1\n---\nb: 2",
        ] {
            assert_eq!(read(doc), Ok(None), "{doc}");
        }
        assert!(read("a: 1\nb: [x").is_err());
        assert!(read("kind: A\nspec:\n  ~: 1\n").is_err());
        assert!(read("kind: A\nspec:\n  - {[a]: 1}\n").is_err());
        assert!(read("null: 1\n").is_err());
        assert!(read("a: b: c").is_err());
    }
}
