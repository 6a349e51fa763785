//! The calling convention of template functions: Go's parameter types, by which the
//! executor converts (or refuses) arguments before a function runs.

use super::State;
use crate::value::Value;

/// A Go parameter type, as far as conversion of arguments is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Param {
    /// `interface{}`
    Any,
    /// `string`
    Str,
    /// `int`, `int64`
    Int,
    /// `bool`
    Bool,
    /// `map[string]interface{}`
    Map,
}

impl Param {
    pub(crate) fn go_type(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::Str => "string",
            Param::Int => "int",
            Param::Bool => "bool",
            Param::Map => "map[string]interface {}",
        }
    }
}

/// A function's body: arguments already converted to its parameter types.
pub(crate) type Body = fn(&mut State<'_>, Vec<Value>) -> Result<Value, String>;

/// A function: its parameters (the last may repeat) and body.
#[derive(Clone, Copy)]
pub(crate) struct Func {
    pub(crate) params: &'static [Param],
    pub(crate) variadic: Option<Param>,
    pub(crate) f: Body,
}
