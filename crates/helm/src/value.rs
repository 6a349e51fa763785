//! The values templates compute with, typed as Go types them.
//!
//! Byte identity with Helm depends on Go's types, not on YAML's: every number read from a
//! values file is a `float64` (Helm reads YAML through JSON), while template literals,
//! `len` and Sprig's arithmetic are integers — so `{{ .Values.n }}` prints `1e+06` where
//! `{{ 1000000 }}` prints `1000000`, and `eq 1 .Values.one` is an error. Maps and lists are
//! Go maps and slices: references, so `set $d "k" v` changes `$d` wherever it is seen, and a
//! template that writes into `.Values` changes what later files read.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Deref;
use std::rc::{Rc, Weak};

/// How deep values may nest before plumb stops following them. Maps are references, so a
/// template can make one contain itself (`set $d "self" $d`); printing or encoding it would
/// recurse forever. Go overflows its stack there; plumb stops at this depth instead.
pub(crate) const MAX_NESTING: usize = 1_000;

/// A Go map of string keys, shared by reference. Go's template `range` and `fmt` visit
/// maps in sorted key order; a `BTreeMap` keeps them so.
pub type Map = Rc<Shared<BTreeMap<String, Value>>>;
/// A Go slice (`[]interface{}`), shared by reference.
pub type List = Rc<Shared<Vec<Value>>>;

/// What a map or list holds: a `RefCell` whose contents are dropped without recursion.
///
/// A template can nest maps millions deep within its step budget (`$m = dict "x" $m` in a
/// loop); dropping such a chain the ordinary way recursed once per level and overflowed
/// even the render thread's stack, aborting the process. Here the maps and lists it held
/// last are taken apart one by one instead.
pub struct Shared<T: Children>(RefCell<T>);

impl<T: Children> Shared<T> {
    fn new(contents: T) -> Self {
        Shared(RefCell::new(contents))
    }
}

impl<T: Children> Deref for Shared<T> {
    type Target = RefCell<T>;

    fn deref(&self) -> &RefCell<T> {
        &self.0
    }
}

impl<T: Children> Drop for Shared<T> {
    fn drop(&mut self) {
        let mut pending = Vec::new();
        self.0.get_mut().take_last_held(&mut pending);
        while let Some(value) = pending.pop() {
            match value {
                Value::Map(map) => {
                    if let Ok(mut shared) = Rc::try_unwrap(map) {
                        shared.0.get_mut().take_last_held(&mut pending);
                    }
                }
                Value::List(list) => {
                    if let Ok(mut shared) = Rc::try_unwrap(list) {
                        shared.0.get_mut().take_last_held(&mut pending);
                    }
                }
                _ => {}
            }
        }
    }
}

/// A map, not kept alive.
type WeakMap = Weak<Shared<BTreeMap<String, Value>>>;

thread_local! {
    /// The maps changed in place (`set`, `merge`) on this thread, by address. The weak
    /// reference keeps the address from being reused while it is here.
    static CHANGED: RefCell<HashMap<usize, WeakMap>> = RefCell::new(HashMap::new());
}

/// Notes that `map` is about to be changed in place. Maps and lists are references, so a
/// template can make a map contain itself (`set $d "self" $d`, or `set . "me" .`); such a
/// cycle never drops, and every render would leak it (the chart's files with it). Only a
/// change in place can close a cycle, so the maps changed are the ones to break.
pub(crate) fn changing(map: &Map) {
    let address = Rc::as_ptr(map) as usize;
    CHANGED.with(|changed| {
        changed
            .borrow_mut()
            .entry(address)
            .or_insert_with(|| Rc::downgrade(map));
    });
}

/// Empties, when dropped, every map changed in place on this thread since it was made
/// that is still alive: after a render nothing holds its values but their own cycles.
#[derive(Default)]
pub(crate) struct CycleBreaker(());

impl Drop for CycleBreaker {
    fn drop(&mut self) {
        let changed = CHANGED.with(|changed| std::mem::take(&mut *changed.borrow_mut()));
        for map in changed.into_values().filter_map(|weak| weak.upgrade()) {
            if let Ok(mut entries) = map.try_borrow_mut() {
                let taken = std::mem::take(&mut *entries);
                drop(entries);
                drop(taken);
            }
        }
    }
}

/// The contents of a map or a list.
pub trait Children {
    /// Empties `self`, moving the maps and lists it holds the last reference to into
    /// `pending` (everything else is dropped at once: it cannot nest).
    fn take_last_held(&mut self, pending: &mut Vec<Value>);
}

fn keep_if_last(value: Value, pending: &mut Vec<Value>) {
    match &value {
        Value::Map(map) if Rc::strong_count(map) == 1 => pending.push(value),
        Value::List(list) if Rc::strong_count(list) == 1 => pending.push(value),
        _ => {}
    }
}

impl Children for BTreeMap<String, Value> {
    fn take_last_held(&mut self, pending: &mut Vec<Value>) {
        for value in std::mem::take(self).into_values() {
            keep_if_last(value, pending);
        }
    }
}

impl Children for Vec<Value> {
    fn take_last_held(&mut self, pending: &mut Vec<Value>) {
        for value in std::mem::take(self) {
            keep_if_last(value, pending);
        }
    }
}

/// One template value.
#[derive(Clone)]
pub enum Value {
    /// Go's nil: a missing map entry, a nil interface, no data.
    Nil,
    /// `bool`.
    Bool(bool),
    /// Go's `int`: template literals, `len`, `atoi`, `until`, `range` indices.
    Int(i64),
    /// Go's `int64`: Sprig's arithmetic (`add`, `mul`, `max`…), `int64`, `toDecimal`, and
    /// integers from `--set`. `typeOf` tells them apart, and a function whose parameter is
    /// an `int` (`trunc`, `indent`…) refuses an `int64`, as in Go.
    Int64(i64),
    /// `float64`: every number read from YAML or JSON.
    Float(f64),
    /// `string`.
    String(Rc<str>),
    /// `[]interface{}`.
    List(List),
    /// `map[string]interface{}`.
    Map(Map),
    /// A Go struct or named type with fields and methods: `.Files`, `.Capabilities`, `.Chart`.
    Object(Rc<dyn Object>),
}

/// A Go value with fields and methods, which templates reach as `.Name` or `.Method arg`.
pub trait Object {
    /// The Go type's name, for error messages (`*chartutil.Capabilities`).
    fn type_name(&self) -> &str;
    /// A field or a method without arguments; `None` when the type has no such member.
    fn field(&self, name: &str) -> Option<Value> {
        let _ = name;
        None
    }
    /// Calls a method with arguments; `None` when the type has no such method.
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let _ = (name, args);
        None
    }
    /// How `fmt` prints it (`%v`), Go's `String()` method where the type has one.
    fn display(&self) -> String;
    /// What `range` visits, for a Go map or slice type; `None` when it cannot be ranged.
    fn entries(&self) -> Option<Vec<(Value, Value)>> {
        None
    }
    /// The integer a Go named integer type holds (`time.Duration`): what JSON and YAML
    /// encode, `eq` and `lt` compare and `%d` prints. `None` for structs.
    fn int(&self) -> Option<i64> {
        None
    }
    /// Go's `reflect.Kind` name (`kindOf`): structs are reached through pointers.
    fn kind(&self) -> &'static str {
        "ptr"
    }
    /// A plain Go struct's exported fields, which encoding/json, go-yaml and BurntSushi/toml
    /// walk as a map's entries and `%+v` prints by name. `None` for types that encode as
    /// their text (or integer). They come in declaration order, which for the structs plumb
    /// has (Sprig's certificate: `Cert`, `Key`) is also sorted order, so a map keeps it.
    fn fields(&self) -> Option<Vec<(&'static str, Value)>> {
        None
    }
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<Rc<str>>) -> Value {
        Value::String(s.into())
    }

    /// A new list holding `items`.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(Shared::new(items)))
    }

    /// A new map holding `entries`.
    pub fn map(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Rc::new(Shared::new(entries)))
    }

    /// An empty map.
    pub fn empty_map() -> Value {
        Value::map(BTreeMap::new())
    }

    /// JSON into Go's `interface{}`, keeping what the number says it is: a float (what Go's
    /// `encoding/json` and YAML values give, see [`as_go_json`]) is a `float64`, an integer
    /// (what `--set` gives) an `int64`.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) if !n.is_f64() => Value::Int64(i),
                _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::str(s.as_str()),
            serde_json::Value::Array(items) => {
                Value::list(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(entries) => Value::map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// The value as JSON, as Go's `encoding/json` sees it. Objects become their printed form.
    pub fn to_json(&self) -> serde_json::Value {
        self.to_json_at(0)
    }

    fn to_json_at(&self, depth: usize) -> serde_json::Value {
        if depth > MAX_NESTING {
            return serde_json::Value::Null;
        }
        match self {
            Value::Nil => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) | Value::Int64(i) => serde_json::Value::from(*i),
            Value::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => serde_json::Value::Number(n),
                None => serde_json::Value::Null,
            },
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::List(items) => serde_json::Value::Array(
                items
                    .borrow()
                    .iter()
                    .map(|v| v.to_json_at(depth + 1))
                    .collect(),
            ),
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json_at(depth + 1)))
                    .collect(),
            ),
            Value::Object(object) => match (object.int(), self.struct_as_map()) {
                (Some(i), _) => serde_json::Value::from(i),
                (None, Some(fields)) => fields.to_json_at(depth + 1),
                (None, None) => serde_json::Value::String(object.display()),
            },
        }
    }

    /// A copy that shares nothing with `self` (Sprig's `deepCopy`).
    pub fn deep_copy(&self) -> Value {
        self.deep_copy_at(0)
    }

    fn deep_copy_at(&self, depth: usize) -> Value {
        self.rebuilt(depth, &Value::clone)
    }

    /// A copy with new lists and maps all the way down (to Go's nesting limit), and each
    /// other value replaced by `leaf` of it.
    fn rebuilt(&self, depth: usize, leaf: &impl Fn(&Value) -> Value) -> Value {
        match self {
            _ if depth > MAX_NESTING => self.clone(),
            Value::List(items) => Value::list(
                items
                    .borrow()
                    .iter()
                    .map(|v| v.rebuilt(depth + 1, leaf))
                    .collect(),
            ),
            Value::Map(entries) => Value::map(
                entries
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.rebuilt(depth + 1, leaf)))
                    .collect(),
            ),
            other => leaf(other),
        }
    }

    /// Whether the value nests deeper than [`MAX_NESTING`] (or contains itself).
    pub(crate) fn too_deep(&self) -> bool {
        fn depth_over(v: &Value, depth: usize) -> bool {
            if depth > MAX_NESTING {
                return true;
            }
            match v {
                Value::List(items) => items.borrow().iter().any(|v| depth_over(v, depth + 1)),
                Value::Map(entries) => entries.borrow().values().any(|v| depth_over(v, depth + 1)),
                _ => false,
            }
        }
        depth_over(self, 0)
    }

    /// Go's `text/template` truth: false, 0, nil and empty strings, maps and lists are false.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(items) => !items.borrow().is_empty(),
            Value::Map(entries) => !entries.borrow().is_empty(),
            Value::Object(object) => object.int() != Some(0),
        }
    }

    /// Go's type name, as error messages and `typeOf` print it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Int64(_) => "int64".into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::List(_) => "[]interface {}".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Object(object) => object.type_name().into(),
        }
    }

    /// Go's `reflect.Kind` name (`kindOf`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(object) => object.kind(),
        }
    }

    /// A struct ([`Object::fields`]) as the map of its fields, which is how encoders see it.
    pub(crate) fn struct_as_map(&self) -> Option<Value> {
        let Value::Object(object) = self else {
            return None;
        };
        let fields = object.fields()?;
        Some(Value::map(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        ))
    }

    /// A copy with every struct inside replaced by the map of its fields (see
    /// [`Value::struct_as_map`]), for encoders that lay out maps ahead of writing.
    pub(crate) fn structs_as_maps(&self) -> Value {
        self.rebuilt(0, &|leaf| match leaf {
            Value::Object(_) => leaf.struct_as_map().unwrap_or_else(|| leaf.clone()),
            other => other.clone(),
        })
    }

    /// A Go named integer (`time.Duration`) as the integer it holds; anything else as is.
    /// Go's comparisons and `%d` see through the name to the kind.
    pub(crate) fn basic(&self) -> std::borrow::Cow<'_, Value> {
        match self {
            Value::Object(object) => match object.int() {
                Some(i) => std::borrow::Cow::Owned(Value::Int(i)),
                None => std::borrow::Cow::Borrowed(self),
            },
            _ => std::borrow::Cow::Borrowed(self),
        }
    }

    /// The string inside, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A map's entry, `Nil` when absent or when this is not a map.
    pub fn get(&self, key: &str) -> Value {
        match self {
            Value::Map(entries) => entries.borrow().get(key).cloned().unwrap_or(Value::Nil),
            _ => Value::Nil,
        }
    }

    /// Whether both are the same map or list (Go's pointer identity), for cycle checks.
    pub fn same_reference(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Map(a), Value::Map(b)) => Rc::ptr_eq(a, b),
            (Value::List(a), Value::List(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// JSON as Go's `encoding/json` decodes it into `interface{}`: every number a `float64`.
/// Values files, `fromYaml` and `fromJson` go through this.
pub fn as_go_json(json: serde_json::Value) -> serde_json::Value {
    match json {
        serde_json::Value::Number(n) => match n.as_f64().and_then(serde_json::Number::from_f64) {
            Some(f) => serde_json::Value::Number(f),
            None => serde_json::Value::Number(n),
        },
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(as_go_json).collect())
        }
        serde_json::Value::Object(entries) => serde_json::Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k, as_go_json(v)))
                .collect(),
        ),
        other => other,
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::str(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_that_contains_itself_is_freed_by_the_cycle_breaker() {
        let breaker = CycleBreaker::default();
        let Value::Map(map) = Value::empty_map() else {
            unreachable!()
        };
        changing(&map);
        map.borrow_mut()
            .insert("self".into(), Value::Map(Rc::clone(&map)));
        let weak = Rc::downgrade(&map);
        drop(map);
        assert!(weak.upgrade().is_some(), "a cycle keeps itself alive");
        drop(breaker);
        assert!(weak.upgrade().is_none());
    }

    /// Found investigating the helm_template fuzz target's slow inputs: a template nesting
    /// maps six million deep (`$m = dict "x" $m` in nested loops, within the step budget)
    /// overflowed the render thread's 512 MiB stack when the chain was dropped, aborting
    /// the process. The chain here is dropped on a test thread's small stack.
    #[test]
    fn a_deep_chain_of_maps_and_lists_drops_without_recursion() {
        let mut chain = Value::empty_map();
        for level in 0..200_000 {
            chain = if level % 2 == 0 {
                Value::map(BTreeMap::from([("x".to_string(), chain)]))
            } else {
                Value::list(vec![Value::Int(level), chain])
            };
        }
        let shared = chain.clone();
        drop(chain);
        assert!(matches!(shared, Value::List(_)));
        drop(shared);
    }

    #[test]
    fn numbers_from_yaml_are_floats_and_maps_are_shared() {
        let v = Value::from_json(&as_go_json(
            serde_json::json!({"n": 1000000, "m": {"a": 1}}),
        ));
        assert!(matches!(v.get("n"), Value::Float(f) if f == 1_000_000.0));
        let m = v.get("m");
        if let Value::Map(entries) = &m {
            entries.borrow_mut().insert("b".into(), Value::Int(2));
        }
        assert!(matches!(v.get("m").get("b"), Value::Int(2)));
        let copy = v.deep_copy();
        if let Value::Map(entries) = &copy.get("m") {
            entries.borrow_mut().insert("c".into(), Value::Int(3));
        }
        assert!(matches!(v.get("m").get("c"), Value::Nil));
        assert!(
            matches!(Value::from_json(&serde_json::json!(3)), Value::Int64(3)),
            "--set gives ints"
        );
    }
}
