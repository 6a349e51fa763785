//! The parse tree of a Go template, as `text/template/parse` shapes it.

use std::rc::Rc;

/// A sequence of nodes: a template's body, or a branch of `if`, `range`, `with`.
pub(crate) type List = Vec<Node>;

/// One node of a template.
#[derive(Debug)]
pub(crate) enum Node {
    /// Text copied to the output.
    Text(Rc<str>),
    /// `{{pipeline}}`: prints the value unless the pipeline declares variables.
    Action(Pipe),
    /// `{{if}}`, `{{range}}`, `{{with}}` with their branches.
    Branch(Branch),
    /// `{{template "name" pipeline}}`.
    Template {
        name: String,
        pipe: Option<Pipe>,
        line: usize,
    },
    /// `{{break}}` inside a `range`.
    Break,
    /// `{{continue}}` inside a `range`.
    Continue,
}

/// Which of the three branching actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BranchKind {
    If,
    Range,
    With,
}

/// `{{if pipe}} list {{else}} else_list {{end}}` and its `range` and `with` siblings.
#[derive(Debug)]
pub(crate) struct Branch {
    pub(crate) kind: BranchKind,
    pub(crate) pipe: Pipe,
    pub(crate) list: List,
    pub(crate) else_list: Option<List>,
}

/// A pipeline: optional variable declarations, then commands joined by `|`.
#[derive(Debug)]
pub(crate) struct Pipe {
    pub(crate) line: usize,
    /// Variables declared (`$x :=`) or assigned (`$x =`).
    pub(crate) decl: Vec<String>,
    /// `=` rather than `:=`.
    pub(crate) is_assign: bool,
    pub(crate) cmds: Vec<Command>,
    /// The pipeline's source text, for error messages (`at <.Values.x>`).
    pub(crate) text: String,
}

/// One command of a pipeline: a function or value and its arguments.
#[derive(Debug)]
pub(crate) struct Command {
    pub(crate) args: Vec<Arg>,
}

/// An operand.
#[derive(Debug)]
pub(crate) enum Arg {
    /// `.A.B`: fields of dot.
    Field(Vec<String>),
    /// `$x.A.B`: a variable and its fields (`$` alone is the template's data).
    Variable(String, Vec<String>),
    /// `(pipeline).A` or `fn.A`: fields of a computed value.
    Chain(Box<Arg>, Vec<String>),
    /// `.`
    Dot,
    /// `nil`
    Nil,
    /// `true`, `false`
    Bool(bool),
    /// A number constant.
    Number(Number),
    /// A string constant.
    String(Rc<str>),
    /// A function name.
    Ident(String),
    /// `(pipeline)`
    Pipe(Box<Pipe>),
}

/// A number constant, with what Go's parser knows of it: whether it reads as an integer,
/// as a float, or as a character.
#[derive(Debug, Clone)]
pub(crate) struct Number {
    pub(crate) text: String,
    pub(crate) int: Option<i64>,
    pub(crate) float: Option<f64>,
    /// A character constant (`'a'`), an integer Go prints as a number.
    pub(crate) is_char: bool,
}

impl Number {
    /// The value Go's `idealConstant` gives an untyped constant: an `int` unless it is
    /// written as a float.
    pub(crate) fn ideal(&self) -> Option<crate::value::Value> {
        use crate::value::Value;
        if self.is_char {
            return self.int.map(Value::Int);
        }
        let looks_float = !self.text.starts_with("0x")
            && !self.text.starts_with("0X")
            && self.text.contains(['.', 'e', 'E', 'p', 'P']);
        if looks_float {
            return self.float.map(Value::Float);
        }
        match (self.int, self.float) {
            (Some(i), _) => Some(Value::Int(i)),
            (None, Some(f)) => Some(Value::Float(f)),
            _ => None,
        }
    }
}
