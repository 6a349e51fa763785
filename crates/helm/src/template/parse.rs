//! Go's template syntax, read as `text/template/parse` reads it: `{{ }}` actions with `-`
//! trim markers, comments, pipelines, variables, and the control actions. Functions and
//! variables are checked while parsing, as Go does, so a misspelt function fails the chart
//! before anything renders.

use std::collections::BTreeMap;
use std::rc::Rc;

pub use super::lex::ParseError;
use super::lex::{Item, Tok, lex, parse_number};
use super::node::{Arg, Branch, BranchKind, Command, List, Node, Pipe};

/// The trees one source text defines: its own body under `name`, and every `define`.
pub(crate) type Trees = BTreeMap<String, Rc<List>>;

/// Parses `text` as the template `name`; `is_function` says which identifiers are functions.
pub(crate) fn parse(
    name: &str,
    text: &str,
    is_function: &dyn Fn(&str) -> bool,
) -> Result<Trees, ParseError> {
    let items = lex(name, text)?;
    let mut parser = Parser {
        name: name.to_string(),
        items,
        pos: 0,
        is_function,
        vars: vec![],
        range_depth: 0,
        nesting: 0,
    };
    let mut trees = Trees::new();
    let body = parser.top_level(&mut trees)?;
    trees.insert(name.to_string(), Rc::new(body));
    Ok(trees)
}

/// Whether a tree holds nothing but whitespace (Go's `IsEmptyTree`): such a `define` does
/// not replace an earlier template of the same name.
pub(crate) fn is_empty_tree(list: &List) -> bool {
    list.iter().all(|node| match node {
        Node::Text(text) => text.trim().is_empty(),
        _ => false,
    })
}

struct Parser<'a> {
    name: String,
    items: Vec<Item>,
    pos: usize,
    is_function: &'a dyn Fn(&str) -> bool,
    /// Variables in scope, innermost last; `$` is always there.
    vars: Vec<String>,
    range_depth: usize,
    /// How deep parentheses and control structures nest here; bounded, as the parser
    /// recurses on them and a template is untrusted input.
    nesting: usize,
}

/// The deepest parentheses and `if`/`range`/`with` may nest in one template.
const MAX_NESTING: usize = 1_000;

/// What ended a list: `{{end}}` or `{{else …}}`.
enum ListEnd {
    End,
    Else,
    Eof,
}

impl Parser<'_> {
    fn err<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        let line = self
            .items
            .get(self.pos.min(self.items.len().saturating_sub(1)))
            .map_or(1, |i| i.line);
        Err(ParseError {
            name: self.name.clone(),
            line,
            message: message.into(),
        })
    }

    fn peek(&self) -> Option<&Tok> {
        self.items.get(self.pos).map(|i| &i.tok)
    }

    fn next(&mut self) -> Option<Tok> {
        let tok = self.items.get(self.pos).map(|i| i.tok.clone());
        self.pos += 1;
        tok
    }

    fn line(&self) -> usize {
        self.items.get(self.pos).map_or(0, |i| i.line)
    }

    fn next_non_space(&mut self) -> Option<Tok> {
        loop {
            match self.next() {
                Some(Tok::Space) => continue,
                other => return other,
            }
        }
    }

    fn peek_non_space(&mut self) -> Option<Tok> {
        let save = self.pos;
        let tok = self.next_non_space();
        self.pos = save;
        tok
    }

    fn top_level(&mut self, trees: &mut Trees) -> Result<List, ParseError> {
        self.vars = vec!["$".into()];
        let mut list = List::new();
        loop {
            match self.peek() {
                None => return Ok(list),
                Some(Tok::Open) => {
                    let save = self.pos;
                    self.next();
                    if self.peek_non_space() == Some(Tok::Keyword("define")) {
                        self.next_non_space();
                        self.definition(trees)?;
                        continue;
                    }
                    self.pos = save;
                    match self.text_or_action(&mut list, Some(trees))? {
                        None => {}
                        Some(ListEnd::End) => return self.err("unexpected {{end}}"),
                        Some(_) => return self.err("unexpected {{else}}"),
                    }
                }
                Some(_) => {
                    self.text_or_action(&mut list, Some(trees))?;
                }
            }
        }
    }

    fn definition(&mut self, trees: &mut Trees) -> Result<(), ParseError> {
        let name = match self.next_non_space() {
            Some(Tok::Str(s)) => s,
            _ => return self.err("name of template in define clause must be a string"),
        };
        self.expect_close("define clause")?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (list, end) = self.item_list(Some(trees))?;
        self.vars = saved_vars;
        if !matches!(end, ListEnd::End) {
            return self.err("unexpected EOF in define clause");
        }
        add_tree(trees, name, list);
        Ok(())
    }

    fn expect_close(&mut self, context: &str) -> Result<(), ParseError> {
        match self.next_non_space() {
            Some(Tok::Close) => Ok(()),
            other => self.err(format!(
                "unexpected {} in {context}",
                describe(other.as_ref())
            )),
        }
    }

    /// Nodes until `{{end}}` or `{{else}}`; the `else`'s own tokens are left to read.
    fn item_list(&mut self, mut trees: Option<&mut Trees>) -> Result<(List, ListEnd), ParseError> {
        let mut list = List::new();
        loop {
            if self.peek().is_none() {
                return Ok((list, ListEnd::Eof));
            }
            if let Some(end) = self.text_or_action(&mut list, trees.as_deref_mut())? {
                return Ok((list, end));
            }
        }
    }

    fn text_or_action(
        &mut self,
        list: &mut List,
        trees: Option<&mut Trees>,
    ) -> Result<Option<ListEnd>, ParseError> {
        match self.next() {
            Some(Tok::Text(text)) => {
                list.push(Node::Text(text.into()));
                Ok(None)
            }
            Some(Tok::Open) => self.action(list, trees),
            other => self.err(format!("unexpected {}", describe(other.as_ref()))),
        }
    }

    fn action(
        &mut self,
        list: &mut List,
        trees: Option<&mut Trees>,
    ) -> Result<Option<ListEnd>, ParseError> {
        let line = self.line();
        match self.peek_non_space() {
            Some(Tok::Keyword(k)) => {
                self.next_non_space();
                match k {
                    "end" => {
                        self.expect_close("end")?;
                        Ok(Some(ListEnd::End))
                    }
                    "else" => Ok(Some(ListEnd::Else)),
                    "if" => {
                        list.push(self.branch(BranchKind::If, trees)?);
                        Ok(None)
                    }
                    "range" => {
                        list.push(self.branch(BranchKind::Range, trees)?);
                        Ok(None)
                    }
                    "with" => {
                        list.push(self.branch(BranchKind::With, trees)?);
                        Ok(None)
                    }
                    "template" => {
                        let name = match self.next_non_space() {
                            Some(Tok::Str(s)) => s,
                            other => {
                                return self.err(format!(
                                    "unexpected {} in template clause",
                                    describe(other.as_ref())
                                ));
                            }
                        };
                        let pipe = if self.peek_non_space() == Some(Tok::Close) {
                            self.next_non_space();
                            None
                        } else {
                            Some(self.pipeline("template clause", false)?)
                        };
                        list.push(Node::Template { name, pipe, line });
                        Ok(None)
                    }
                    "block" => {
                        let name = match self.next_non_space() {
                            Some(Tok::Str(s)) => s,
                            other => {
                                return self.err(format!(
                                    "unexpected {} in block clause",
                                    describe(other.as_ref())
                                ));
                            }
                        };
                        let pipe = self.pipeline("block clause", false)?;
                        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
                        let (body, end) = self.item_list(None)?;
                        self.vars = saved_vars;
                        if !matches!(end, ListEnd::End) {
                            return self.err("unexpected EOF in block clause");
                        }
                        match trees {
                            Some(trees) => add_tree(trees, name.clone(), body),
                            None => return self.err("block inside a define is not supported"),
                        }
                        list.push(Node::Template {
                            name,
                            pipe: Some(pipe),
                            line,
                        });
                        Ok(None)
                    }
                    "break" | "continue" => {
                        if self.range_depth == 0 {
                            return self.err(format!("{{{{{k}}}}} outside {{{{range}}}}"));
                        }
                        self.expect_close(k)?;
                        list.push(if k == "break" {
                            Node::Break
                        } else {
                            Node::Continue
                        });
                        Ok(None)
                    }
                    "define" => {
                        self.err("unexpected define: {{define}} is only allowed at the top level")
                    }
                    _ => self.err(format!("unexpected keyword {k}")),
                }
            }
            _ => {
                let pipe = self.pipeline("command", false)?;
                list.push(Node::Action(pipe));
                Ok(None)
            }
        }
    }

    fn branch(&mut self, kind: BranchKind, trees: Option<&mut Trees>) -> Result<Node, ParseError> {
        self.enter()?;
        let node = self.branch_body(kind, trees);
        self.nesting -= 1;
        node
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return self.err(format!("actions nest deeper than {MAX_NESTING}"));
        }
        Ok(())
    }

    fn branch_body(
        &mut self,
        kind: BranchKind,
        mut trees: Option<&mut Trees>,
    ) -> Result<Node, ParseError> {
        let vars_before = self.vars.len();
        let context = match kind {
            BranchKind::If => "if",
            BranchKind::Range => "range",
            BranchKind::With => "with",
        };
        let pipe = self.pipeline(context, kind == BranchKind::Range)?;
        if kind == BranchKind::Range {
            self.range_depth += 1;
        }
        let (list, end) = self.item_list(trees.as_deref_mut())?;
        if kind == BranchKind::Range {
            self.range_depth -= 1;
        }
        let else_list = match end {
            ListEnd::Eof => return self.err(format!("unexpected EOF in {context}")),
            ListEnd::End => None,
            ListEnd::Else => {
                // `{{else if …}}` / `{{else with …}}` chain: one nested branch ends both.
                let chained = match self.peek_non_space() {
                    Some(Tok::Keyword("if")) if kind == BranchKind::If => Some(BranchKind::If),
                    Some(Tok::Keyword("with")) if kind == BranchKind::With => {
                        Some(BranchKind::With)
                    }
                    _ => None,
                };
                if let Some(chained) = chained {
                    self.next_non_space();
                    let nested = self.branch(chained, trees.as_deref_mut())?;
                    Some(vec![nested])
                } else {
                    self.expect_close("else")?;
                    let (else_list, end) = self.item_list(trees)?;
                    if !matches!(end, ListEnd::End) {
                        return self.err(format!(
                            "expected end; found {}",
                            if matches!(end, ListEnd::Else) {
                                "else"
                            } else {
                                "EOF"
                            }
                        ));
                    }
                    Some(else_list)
                }
            }
        };
        self.vars.truncate(vars_before);
        Ok(Node::Branch(Branch {
            kind,
            pipe,
            list,
            else_list,
        }))
    }

    /// A pipeline up to `}}` (or `)` when `in_parens`).
    fn pipeline(&mut self, context: &str, allow_two_vars: bool) -> Result<Pipe, ParseError> {
        self.pipeline_until(context, allow_two_vars, false)
    }

    fn pipeline_until(
        &mut self,
        context: &str,
        allow_two_vars: bool,
        in_parens: bool,
    ) -> Result<Pipe, ParseError> {
        let line = self.line();
        let start = self.pos;
        let mut decl = Vec::new();
        let mut is_assign = false;
        // Declarations: `$x :=`, `$x =`, `$k, $v :=`.
        let save = self.pos;
        if let Some(Tok::Variable(v)) = self.next_non_space() {
            match self.next_non_space() {
                Some(Tok::Declare) => decl.push(v),
                Some(Tok::Assign) => {
                    decl.push(v);
                    is_assign = true;
                }
                Some(Tok::Comma) if allow_two_vars => {
                    match (self.next_non_space(), self.next_non_space()) {
                        (Some(Tok::Variable(v2)), Some(Tok::Declare | Tok::Assign)) => {
                            is_assign = matches!(self.items[self.pos - 1].tok, Tok::Assign);
                            decl.push(v);
                            decl.push(v2);
                        }
                        _ => return self.err("range can only initialize variables"),
                    }
                }
                _ => self.pos = save,
            }
        } else {
            self.pos = save;
        }
        if is_assign {
            for v in &decl {
                if !self.vars.contains(v) {
                    return self.err(format!("undefined variable {v:?}"));
                }
            }
        }
        let mut cmds = Vec::new();
        loop {
            match self.peek_non_space() {
                Some(Tok::Close) if !in_parens => {
                    self.next_non_space();
                    break;
                }
                Some(Tok::RightParen) if in_parens => {
                    self.next_non_space();
                    break;
                }
                other @ (Some(Tok::Close) | Some(Tok::RightParen) | None) => {
                    return self.err(format!(
                        "unexpected {} in {context}",
                        describe(other.as_ref())
                    ));
                }
                _ => {
                    cmds.push(self.command(in_parens)?);
                    if self.peek_non_space() == Some(Tok::Pipe) {
                        self.next_non_space();
                        if matches!(
                            self.peek_non_space(),
                            Some(Tok::Close) | Some(Tok::RightParen)
                        ) {
                            return self.err("missing command");
                        }
                    }
                }
            }
        }
        if cmds.is_empty() {
            return self.err(format!("missing value for {context}"));
        }
        if !is_assign {
            self.vars.extend(decl.iter().cloned());
        }
        let text = self.items[start..self.pos.saturating_sub(1)]
            .iter()
            .map(|i| token_text(&i.tok))
            .collect::<String>()
            .trim()
            .to_string();
        Ok(Pipe {
            line,
            decl,
            is_assign,
            cmds,
            text,
        })
    }

    fn command(&mut self, in_parens: bool) -> Result<Command, ParseError> {
        let mut args = Vec::new();
        loop {
            while self.peek() == Some(&Tok::Space) {
                self.next();
            }
            match self.peek() {
                Some(Tok::Close) if !in_parens => break,
                Some(Tok::RightParen) if in_parens => break,
                Some(Tok::Pipe) => break,
                None => return self.err("unclosed action"),
                _ => {}
            }
            let operand = self.operand()?;
            args.push(operand);
            match self.peek() {
                Some(Tok::Space) | Some(Tok::Pipe) | Some(Tok::Close) => {}
                Some(Tok::RightParen) if in_parens => {}
                other => return self.err(format!("unexpected {} in operand", describe(other))),
            }
        }
        if args.is_empty() {
            return self.err("empty command");
        }
        Ok(Command { args })
    }

    fn operand(&mut self) -> Result<Arg, ParseError> {
        let term = self.term()?;
        let mut fields = Vec::new();
        while let Some(Tok::Field(f)) = self.peek() {
            fields.push(f.clone());
            self.next();
        }
        if fields.is_empty() {
            return Ok(term);
        }
        Ok(match term {
            Arg::Field(mut base) => {
                base.extend(fields);
                Arg::Field(base)
            }
            Arg::Variable(name, mut base) => {
                base.extend(fields);
                Arg::Variable(name, base)
            }
            Arg::Bool(_) | Arg::String(_) | Arg::Number(_) | Arg::Nil | Arg::Dot => {
                return self.err("unexpected . after term");
            }
            other => Arg::Chain(Box::new(other), fields),
        })
    }

    fn term(&mut self) -> Result<Arg, ParseError> {
        let tok = self.next();
        Ok(match tok {
            Some(Tok::Ident(name)) => {
                if !(self.is_function)(&name) {
                    return self.err(format!("function {name:?} not defined"));
                }
                Arg::Ident(name)
            }
            Some(Tok::Dot) => Arg::Dot,
            Some(Tok::Nil) => Arg::Nil,
            Some(Tok::Variable(v)) => {
                if !self.vars.contains(&v) {
                    return self.err(format!("undefined variable {v:?}"));
                }
                Arg::Variable(v, Vec::new())
            }
            Some(Tok::Field(f)) => Arg::Field(vec![f]),
            Some(Tok::Bool(b)) => Arg::Bool(b),
            Some(Tok::Number(text)) => {
                Arg::Number(parse_number(&text, false, 0).or_else(|m| self.err(m))?)
            }
            Some(Tok::Char(c)) => {
                Arg::Number(parse_number(&format!("'{}'", c), true, c).or_else(|m| self.err(m))?)
            }
            Some(Tok::Str(s)) => Arg::String(s.into()),
            Some(Tok::LeftParen) => {
                self.enter()?;
                let pipe = self.pipeline_until("parenthesized pipeline", false, true);
                self.nesting -= 1;
                Arg::Pipe(Box::new(pipe?))
            }
            other => {
                return self.err(format!(
                    "unexpected {} in operand",
                    describe(other.as_ref())
                ));
            }
        })
    }
}

/// Adds a `define`d tree: an empty definition does not replace an existing one.
fn add_tree(trees: &mut Trees, name: String, list: List) {
    if is_empty_tree(&list) && trees.contains_key(&name) {
        return;
    }
    trees.insert(name, Rc::new(list));
}

fn describe(tok: Option<&Tok>) -> String {
    match tok {
        None => "EOF".into(),
        Some(Tok::Close) => "\"}}\"".into(),
        Some(tok) => format!("<{}>", token_text(tok)),
    }
}

fn token_text(tok: &Tok) -> String {
    match tok {
        Tok::Text(t) => t.clone(),
        Tok::Open => "{{".into(),
        Tok::Close => "}}".into(),
        Tok::Space => " ".into(),
        Tok::Ident(s) | Tok::Variable(s) | Tok::Number(s) => s.clone(),
        Tok::Field(f) => format!(".{f}"),
        Tok::Dot => ".".into(),
        Tok::Str(s) => crate::gofmt::quote(s),
        Tok::Char(c) => format!("'{}'", char::from_u32(*c as u32).unwrap_or('?')),
        Tok::Bool(b) => b.to_string(),
        Tok::Nil => "nil".into(),
        Tok::Pipe => "|".into(),
        Tok::LeftParen => "(".into(),
        Tok::RightParen => ")".into(),
        Tok::Declare => ":=".into(),
        Tok::Assign => "=".into(),
        Tok::Comma => ",".into(),
        Tok::Keyword(k) => (*k).into(),
    }
}
