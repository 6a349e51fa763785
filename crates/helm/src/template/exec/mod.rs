//! Executing parsed templates as `text/template` does: dot and variables, field and method
//! access, function calls with Go's argument conversion, `and`/`or` short-circuit, and
//! `range` over lists, maps and integers.

use std::collections::HashMap;
use std::rc::Rc;

use super::func::Func;
use super::node::{Branch, BranchKind, List, Node, Pipe};
use super::parse::Trees;
use crate::gofmt;
use crate::value::Value;

mod eval;

/// An execution error, said as Go says it (`executing "x" at <.a.b>: …`).
#[derive(Debug, Clone)]
pub struct ExecError {
    /// The template being executed.
    pub name: String,
    /// 1-based line of the action.
    pub line: usize,
    /// The action's pipeline text (`.Values.x | quote`), empty when unknown.
    pub at: String,
    /// What failed.
    pub message: String,
}

impl std::error::Error for ExecError {}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.at.is_empty() {
            write!(f, "template: {}:{}: {}", self.name, self.line, self.message)
        } else {
            write!(
                f,
                "template: {}:{}: executing {:?} at <{}>: {}",
                self.name, self.line, self.name, self.at, self.message
            )
        }
    }
}

/// What the executor needs from its surroundings: templates by name and functions.
pub(crate) struct Namespace {
    /// Layers of templates; later layers shadow earlier ones (`tpl` adds one for its text).
    layers: Vec<Rc<Trees>>,
    funcs: Rc<HashMap<&'static str, Func>>,
    /// How deep `include`/`template` calls nest, per template name (Helm stops at 1000).
    pub(crate) included: HashMap<String, usize>,
    /// Bytes written so far by the whole render; bounded so a template cannot exhaust memory.
    pub(crate) written: usize,
    pub(crate) max_output: usize,
    /// Maps that are Helm's named `Values` type rather than Go's plain map: Sprig's `dig` and
    /// `merge` see the difference, as they do in Go.
    pub(crate) named_values: Vec<crate::value::Map>,
    /// Steps taken so far by the whole render, and how many it may take ([`MAX_STEPS`]).
    steps: u64,
    pub(crate) max_steps: u64,
    /// The key of this render's random functions (see [`crate::randomness`]), and how many
    /// draws of each kind each template made.
    pub(crate) random: crate::randomness::RandomKey,
    pub(crate) draws: HashMap<String, u64>,
}

/// How deep `template`, `include` and `tpl` may nest. Go allows 100,000; a render runs on a
/// thread whose stack holds this many (see `render`), and charts nest a few levels.
pub(crate) const MAX_DEPTH: usize = 1_000;
/// Most steps (actions, iterations, function calls) one render may take: a template is
/// untrusted input, and `{{ range 1000000000000 }}` must end with an error, not a hung worker.
pub(crate) const MAX_STEPS: u64 = 20_000_000;
/// Most elements a list computed by a template may hold.
pub(crate) const MAX_ITEMS: usize = 1_000_000;

impl Namespace {
    pub(crate) fn new(
        trees: Trees,
        funcs: Rc<HashMap<&'static str, Func>>,
        max_output: usize,
    ) -> Namespace {
        Namespace {
            layers: vec![Rc::new(trees)],
            funcs,
            included: HashMap::new(),
            written: 0,
            max_output,
            steps: 0,
            max_steps: MAX_STEPS,
            named_values: Vec::new(),
            random: crate::randomness::RandomKey::fresh(),
            draws: HashMap::new(),
        }
    }

    pub(crate) fn is_named_values(&self, map: &crate::value::Map) -> bool {
        self.named_values.iter().any(|m| Rc::ptr_eq(m, map))
    }

    /// Go's `%T` of a value, knowing which maps are Helm's `Values`.
    pub(crate) fn type_name(&self, value: &Value) -> String {
        match value {
            Value::Map(m) if self.is_named_values(m) => "common.Values".into(),
            v => v.type_name(),
        }
    }

    pub(crate) fn lookup(&self, name: &str) -> Option<Rc<List>> {
        self.layers
            .iter()
            .rev()
            .find_map(|layer| layer.get(name).cloned())
    }

    pub(crate) fn is_function(&self, name: &str) -> bool {
        self.funcs.contains_key(name)
    }

    pub(crate) fn push_layer(&mut self, trees: Trees) {
        self.layers.push(Rc::new(trees));
    }

    pub(crate) fn pop_layer(&mut self) {
        self.layers.pop();
    }

    /// Whether a value computed by a template is within the render's bounds: a string no
    /// longer than the output may be, a list of at most [`MAX_ITEMS`].
    pub(crate) fn check_size(&self, value: &Value) -> std::result::Result<(), String> {
        match value {
            Value::String(s) if s.len() > self.max_output => Err(format!(
                "a value of {} bytes exceeds the render's {} bytes",
                s.len(),
                self.max_output
            )),
            Value::List(items) if items.borrow().len() > MAX_ITEMS => Err(format!(
                "a list of {} elements exceeds the render's {MAX_ITEMS}",
                items.borrow().len()
            )),
            _ => Ok(()),
        }
    }

    /// Refuses a string of `bytes` before it is built.
    pub(crate) fn allow_bytes(&self, bytes: u128) -> std::result::Result<(), String> {
        if bytes > self.max_output as u128 {
            return Err(format!(
                "a value of {bytes} bytes would exceed the render's {} bytes",
                self.max_output
            ));
        }
        Ok(())
    }

    /// Refuses a list of `items` before it is built.
    pub(crate) fn allow_items(&self, items: u128) -> std::result::Result<(), String> {
        if items > MAX_ITEMS as u128 {
            return Err(format!(
                "a list of {items} elements would exceed the render's {MAX_ITEMS}"
            ));
        }
        Ok(())
    }

    fn step(&mut self) -> std::result::Result<(), String> {
        self.steps += 1;
        if self.steps > self.max_steps {
            return Err(format!(
                "the templates ran more than {} steps (an endless loop?)",
                self.max_steps
            ));
        }
        Ok(())
    }

    /// Executes the template `name` with `data` as dot and `$`.
    pub(crate) fn execute(
        &mut self,
        name: &str,
        data: Value,
        depth: usize,
    ) -> std::result::Result<String, ExecError> {
        if depth > MAX_DEPTH {
            return Err(ExecError {
                name: name.into(),
                line: 0,
                at: String::new(),
                message: format!(
                    "templates nest deeper than {MAX_DEPTH} (a template that includes itself?)"
                ),
            });
        }
        let Some(tree) = self.lookup(name) else {
            return Err(ExecError {
                name: name.into(),
                line: 0,
                at: String::new(),
                message: format!("no template {name:?} associated with template \"gotpl\""),
            });
        };
        let mut state = State {
            ns: self,
            name: name.to_string(),
            out: String::new(),
            vars: vec![("$".into(), data.clone())],
            depth,
        };
        state.walk_list(&data, &tree)?;
        Ok(state.out)
    }
}

/// Control flow out of a list: on, or `break`/`continue` of the innermost `range`.
enum Flow {
    Normal,
    Break,
    Continue,
}

/// Where a value came from, for Go's two kinds of nil: a map lookup or function result is a
/// nil *interface* (a field of it is an error, a typed parameter refuses it); a pipeline's
/// result has been unwrapped to no value at all.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Interface,
    Plain,
}

/// One template's execution.
pub(crate) struct State<'a> {
    pub(crate) ns: &'a mut Namespace,
    pub(crate) name: String,
    out: String,
    vars: Vec<(String, Value)>,
    pub(crate) depth: usize,
}

type Result<T> = std::result::Result<T, ExecError>;

impl State<'_> {
    fn error(&self, pipe: Option<&Pipe>, message: impl Into<String>) -> ExecError {
        ExecError {
            name: self.name.clone(),
            line: pipe.map_or(0, |p| p.line),
            at: pipe.map_or(String::new(), |p| p.text.clone()),
            message: message.into(),
        }
    }

    fn write(&mut self, pipe: Option<&Pipe>, text: &str) -> Result<()> {
        self.ns.written += text.len();
        if self.ns.written > self.ns.max_output {
            return Err(self.error(
                pipe,
                format!("the rendered output exceeds {} bytes", self.ns.max_output),
            ));
        }
        self.out.push_str(text);
        Ok(())
    }

    fn walk_list(&mut self, dot: &Value, list: &List) -> Result<Flow> {
        for node in list {
            match self.walk(dot, node)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Value, node: &Node) -> Result<Flow> {
        self.ns
            .step()
            .map_err(|message| self.error(None, message))?;
        match node {
            Node::Text(text) => self.write(None, text)?,
            Node::Action(pipe) => {
                let value = self.pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    let text = match &value {
                        Value::Nil => "<no value>".to_string(),
                        v => gofmt::print_value(v),
                    };
                    self.write(Some(pipe), &text)?;
                }
            }
            Node::Branch(branch) => return self.branch(dot, branch),
            Node::Template { name, pipe, line } => {
                let data = match pipe {
                    Some(pipe) => self.pipeline(dot, pipe)?,
                    None => Value::Nil,
                };
                if self.ns.lookup(name).is_none() {
                    return Err(ExecError {
                        name: self.name.clone(),
                        line: *line,
                        at: String::new(),
                        message: format!(
                            "template: no template {name:?} associated with template \"gotpl\""
                        ),
                    });
                }
                let text = self.ns.execute(name, data, self.depth + 1)?;
                self.out.push_str(&text);
            }
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn branch(&mut self, dot: &Value, branch: &Branch) -> Result<Flow> {
        let mark = self.vars.len();
        let flow = match branch.kind {
            BranchKind::If | BranchKind::With => {
                let value = self.pipeline(dot, &branch.pipe)?;
                if value.is_true() {
                    let new_dot = if branch.kind == BranchKind::With {
                        value
                    } else {
                        dot.clone()
                    };
                    self.walk_list(&new_dot, &branch.list)?
                } else if let Some(else_list) = &branch.else_list {
                    self.walk_list(dot, else_list)?
                } else {
                    Flow::Normal
                }
            }
            BranchKind::Range => self.range(dot, branch)?,
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn range(&mut self, dot: &Value, branch: &Branch) -> Result<Flow> {
        let pipe = &branch.pipe;
        // The pipeline's declarations name the key and element, not its value.
        let value = self.pipeline_value(dot, pipe)?;
        let items: Vec<(Value, Value)> = match &value {
            Value::List(items) => items
                .borrow()
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), v.clone()))
                .collect(),
            Value::Map(entries) => entries
                .borrow()
                .iter()
                .map(|(k, v)| (Value::str(k.as_str()), v.clone()))
                .collect(),
            Value::Int(n) => return self.range_int(dot, branch, *n, Value::Int),
            Value::Int64(n) => return self.range_int(dot, branch, *n, Value::Int64),
            Value::Nil => Vec::new(),
            Value::Object(object) if object.entries().is_some() => {
                object.entries().unwrap_or_default()
            }
            other => {
                return Err(self.error(
                    Some(pipe),
                    format!("range can't iterate over {}", gofmt::print_value(other)),
                ));
            }
        };
        let len = items.len() as i64;
        let mut items = items.into_iter();
        self.iterate(dot, branch, len, |_| {
            items.next().unwrap_or((Value::Nil, Value::Nil))
        })
    }

    /// `range` over an integer (Go 1.22): counted as it goes, never collected; its indices
    /// typed as the integer is (`int` or `int64`).
    fn range_int(
        &mut self,
        dot: &Value,
        branch: &Branch,
        n: i64,
        typed: fn(i64) -> Value,
    ) -> Result<Flow> {
        self.iterate(dot, branch, n, |i| (typed(i), typed(i)))
    }

    /// The body of a `range` run for `count` (key, element) pairs `next` gives, each a step
    /// of the render's budget; the `else` branch when there are none.
    fn iterate(
        &mut self,
        dot: &Value,
        branch: &Branch,
        count: i64,
        mut next: impl FnMut(i64) -> (Value, Value),
    ) -> Result<Flow> {
        let pipe = &branch.pipe;
        if count <= 0 {
            return match &branch.else_list {
                Some(else_list) => self.walk_list(dot, else_list),
                None => Ok(Flow::Normal),
            };
        }
        let mark = self.vars.len();
        if !pipe.is_assign {
            for name in &pipe.decl {
                self.vars.push((name.clone(), Value::Nil));
            }
        }
        for i in 0..count {
            self.ns
                .step()
                .map_err(|message| self.error(Some(pipe), message))?;
            let (key, element) = next(i);
            match pipe.decl.len() {
                0 => {}
                1 => self.bind_range(pipe, mark, 0, element.clone()),
                _ => {
                    self.bind_range(pipe, mark, 0, key);
                    self.bind_range(pipe, mark, 1, element.clone());
                }
            }
            let flow = self.walk_list(&element, &branch.list)?;
            self.vars
                .truncate(mark + if pipe.is_assign { 0 } else { pipe.decl.len() });
            if matches!(flow, Flow::Break) {
                break;
            }
        }
        Ok(Flow::Normal)
    }

    /// Sets the `i`th variable a `range` declared (pushed at `mark`) or assigns it.
    fn bind_range(&mut self, pipe: &Pipe, mark: usize, i: usize, value: Value) {
        if pipe.is_assign {
            self.set_var(&pipe.decl[i], value);
        } else {
            self.vars[mark + i].1 = value;
        }
    }

    fn set_var(&mut self, name: &str, value: Value) {
        if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            slot.1 = value;
        }
    }

    fn var(&self, name: &str) -> Value {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map_or(Value::Nil, |(_, v)| v.clone())
    }
}
