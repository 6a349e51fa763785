//! The size of objects as the API server counts it (bytes of compact JSON), and the
//! checks that keep a render's output within [`Limits`]: per object and in total.
//!
//! Bounding what is read is not enough: Kustomize can multiply data (JSON patch `copy`,
//! `replacements`, a patch aimed at every object), so what a render *produces* is
//! measured too, and a render that would grow past its budget fails before it has the
//! memory to do so.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::limits::Limits;

/// Bytes of `value` serialised as compact JSON, without building the text.
pub fn json_bytes(value: &Value) -> u64 {
    let mut counter = Counter(0);
    // Writing to a counter cannot fail, and a `Value` always serialises.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// [`json_bytes`] of an object.
pub fn object_bytes(object: &Map<String, Value>) -> u64 {
    let mut counter = Counter(0);
    let _ = serde_json::to_writer(&mut counter, object);
    counter.0
}

struct Counter(u64);

impl std::io::Write for Counter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Running totals of rendered bytes, failing as soon as one object or the sum of those
/// measured passes its limit.
pub struct Tally<'a> {
    limits: &'a Limits,
    total: u64,
}

/// A limit passed: its name in [`Limits`], its value, and what passed it.
pub struct Exceeded {
    /// The name of the [`Limits`] field.
    pub limit: &'static str,
    /// Its value.
    pub value: u64,
    /// What passed it.
    pub detail: String,
}

impl From<Exceeded> for Error {
    fn from(exceeded: Exceeded) -> Self {
        Error::LimitExceeded {
            limit: exceeded.limit,
            value: exceeded.value,
            detail: exceeded.detail,
        }
    }
}

impl<'a> Tally<'a> {
    /// An empty tally against `limits`.
    pub fn new(limits: &'a Limits) -> Self {
        Tally { limits, total: 0 }
    }

    /// Counts one object; `what` names it for the error.
    pub fn add(
        &mut self,
        object: &Map<String, Value>,
        what: impl FnOnce() -> String,
    ) -> Result<(), Exceeded> {
        let bytes = object_bytes(object);
        if bytes > self.limits.max_object_bytes {
            return Err(Exceeded {
                limit: "max_object_bytes",
                value: self.limits.max_object_bytes,
                detail: format!(
                    "{} is {bytes} bytes; the API server would refuse it too",
                    what()
                ),
            });
        }
        self.total += bytes;
        if self.total > self.limits.max_rendered_bytes {
            return Err(Exceeded {
                limit: "max_rendered_bytes",
                value: self.limits.max_rendered_bytes,
                detail: format!("reached at {}", what()),
            });
        }
        Ok(())
    }
}

/// Checks a finished render: every object and their sum.
pub fn check<'o>(
    limits: &Limits,
    objects: impl IntoIterator<Item = (&'o Map<String, Value>, String)>,
) -> Result<()> {
    let mut tally = Tally::new(limits);
    for (object, origin) in objects {
        tally.add(object, || format!("the object from {origin}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sizes_are_those_of_compact_json() {
        let value = json!({"a": [1, "x"], "b": {"c": null}});
        assert_eq!(json_bytes(&value), value.to_string().len() as u64);
    }

    #[test]
    fn one_large_object_and_many_small_ones_are_both_refused() {
        let limits = Limits {
            max_object_bytes: 20,
            max_rendered_bytes: 50,
            ..Limits::default()
        };
        let small = json!({"k": "v"}).as_object().unwrap().clone();
        let large = json!({"k": "0123456789012345678901234"})
            .as_object()
            .unwrap()
            .clone();
        let mut tally = Tally::new(&limits);
        let err = tally.add(&large, || "large".into()).err().unwrap();
        assert_eq!(err.limit, "max_object_bytes");
        let mut tally = Tally::new(&limits);
        let mut result = Ok(());
        for _ in 0..10 {
            result = result.and_then(|()| tally.add(&small, || "small".into()));
        }
        assert_eq!(result.err().unwrap().limit, "max_rendered_bytes");
    }
}
