//! Go's `text/template`: parsing and execution.

mod exec;
mod func;
mod lex;
mod node;
mod parse;

pub use exec::ExecError;
pub(crate) use exec::{MAX_STEPS, Namespace, State};
pub(crate) use func::{Body, Func, Param};
pub use parse::ParseError;
pub(crate) use parse::{Trees, is_empty_tree, parse};
