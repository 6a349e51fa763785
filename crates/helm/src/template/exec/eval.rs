//! Evaluating pipelines as `text/template` does: commands chained by `|`, arguments
//! (fields, variables, literals, sub-pipelines), method and function calls with Go's
//! argument conversion, and `and`/`or` short-circuit.

use super::{Origin, Result, State};
use crate::gofmt;
use crate::template::func::Param;
use crate::template::node::{Arg, Command, Pipe};
use crate::value::Value;

impl State<'_> {
    /// A pipeline's value, declaring or assigning its variables.
    pub(crate) fn pipeline(&mut self, dot: &Value, pipe: &Pipe) -> Result<Value> {
        let value = self.pipeline_value(dot, pipe)?;
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone());
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    pub(super) fn pipeline_value(&mut self, dot: &Value, pipe: &Pipe) -> Result<Value> {
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            let (v, _) = self.command(dot, pipe, cmd, value.take())?;
            value = Some(v);
        }
        Ok(value.unwrap_or(Value::Nil))
    }

    fn command(
        &mut self,
        dot: &Value,
        pipe: &Pipe,
        cmd: &Command,
        fin: Option<Value>,
    ) -> Result<(Value, Origin)> {
        let first = &cmd.args[0];
        let rest = &cmd.args[1..];
        match first {
            Arg::Field(fields) => {
                self.field_chain(dot, pipe, dot.clone(), Origin::Plain, fields, rest, fin)
            }
            Arg::Chain(base, fields) => {
                let (receiver, origin) = self.arg_value(dot, pipe, base)?;
                self.field_chain(dot, pipe, receiver, origin, fields, rest, fin)
            }
            Arg::Ident(name) => self.call(dot, pipe, name, rest, fin),
            Arg::Pipe(inner) => {
                self.no_args(pipe, rest, fin.as_ref(), "a parenthesized pipeline")?;
                Ok((self.pipeline(dot, inner)?, Origin::Plain))
            }
            Arg::Variable(name, fields) => {
                let value = self.var(name);
                if fields.is_empty() {
                    self.no_args(pipe, rest, fin.as_ref(), name)?;
                    return Ok((value, Origin::Plain));
                }
                self.field_chain(dot, pipe, value, Origin::Plain, fields, rest, fin)
            }
            Arg::Nil => Err(self.error(Some(pipe), "nil is not a command")),
            other => {
                self.no_args(pipe, rest, fin.as_ref(), "a constant")?;
                self.arg_value(dot, pipe, other)
            }
        }
    }

    fn no_args(&self, pipe: &Pipe, rest: &[Arg], fin: Option<&Value>, what: &str) -> Result<()> {
        if !rest.is_empty() || fin.is_some() {
            return Err(self.error(
                Some(pipe),
                format!("can't give argument to non-function {what}"),
            ));
        }
        Ok(())
    }

    /// An operand's value, untyped (Go's `evalEmptyInterface`).
    fn arg_value(&mut self, dot: &Value, pipe: &Pipe, arg: &Arg) -> Result<(Value, Origin)> {
        Ok(match arg {
            Arg::Dot => (dot.clone(), Origin::Plain),
            Arg::Nil => (Value::Nil, Origin::Plain),
            Arg::Bool(b) => (Value::Bool(*b), Origin::Plain),
            Arg::String(s) => (Value::String(s.clone()), Origin::Plain),
            Arg::Number(n) => match n.ideal() {
                Some(v) => (v, Origin::Plain),
                None => return Err(self.error(Some(pipe), format!("{} overflows int", n.text))),
            },
            Arg::Field(fields) => {
                self.field_chain(dot, pipe, dot.clone(), Origin::Plain, fields, &[], None)?
            }
            Arg::Variable(name, fields) => {
                let value = self.var(name);
                if fields.is_empty() {
                    (value, Origin::Plain)
                } else {
                    self.field_chain(dot, pipe, value, Origin::Plain, fields, &[], None)?
                }
            }
            Arg::Chain(base, fields) => {
                let (receiver, origin) = self.arg_value(dot, pipe, base)?;
                self.field_chain(dot, pipe, receiver, origin, fields, &[], None)?
            }
            Arg::Ident(name) => self.call(dot, pipe, name, &[], None)?,
            Arg::Pipe(inner) => (self.pipeline(dot, inner)?, Origin::Plain),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn field_chain(
        &mut self,
        dot: &Value,
        pipe: &Pipe,
        mut receiver: Value,
        mut origin: Origin,
        fields: &[String],
        args: &[Arg],
        fin: Option<Value>,
    ) -> Result<(Value, Origin)> {
        let last = fields.len() - 1;
        for (i, field) in fields.iter().enumerate() {
            let method_args = if i == last {
                Some((args, fin.clone()))
            } else {
                None
            };
            let (next, next_origin) =
                self.field(dot, pipe, &receiver, origin, field, method_args)?;
            receiver = next;
            origin = next_origin;
        }
        Ok((receiver, origin))
    }

    fn field(
        &mut self,
        dot: &Value,
        pipe: &Pipe,
        receiver: &Value,
        origin: Origin,
        name: &str,
        call: Option<(&[Arg], Option<Value>)>,
    ) -> Result<(Value, Origin)> {
        let has_args = call
            .as_ref()
            .is_some_and(|(args, fin)| !args.is_empty() || fin.is_some());
        match receiver {
            Value::Nil if origin == Origin::Interface => Err(self.error(
                Some(pipe),
                format!("nil pointer evaluating interface {{}}.{name}"),
            )),
            Value::Nil => Ok((Value::Nil, Origin::Plain)),
            Value::Map(entries) => {
                if has_args {
                    return Err(self.error(
                        Some(pipe),
                        format!("{name} is not a method but has arguments"),
                    ));
                }
                let value = entries.borrow().get(name).cloned().unwrap_or(Value::Nil);
                Ok((value, Origin::Interface))
            }
            Value::Object(object) => {
                if has_args {
                    let (args, fin) = call.unwrap_or((&[], None));
                    let mut values = Vec::with_capacity(args.len() + 1);
                    for arg in args {
                        values.push(self.arg_value(dot, pipe, arg)?.0);
                    }
                    values.extend(fin);
                    return match object.call(name, &values) {
                        Some(Ok(v)) => Ok((v, Origin::Interface)),
                        Some(Err(e)) => {
                            Err(self.error(Some(pipe), format!("error calling {name}: {e}")))
                        }
                        None => Err(self.error(
                            Some(pipe),
                            format!("can't evaluate field {name} in type {}", object.type_name()),
                        )),
                    };
                }
                match object.field(name) {
                    Some(v) => Ok((v, Origin::Interface)),
                    None => match object.call(name, &[]) {
                        Some(Ok(v)) => Ok((v, Origin::Interface)),
                        Some(Err(e)) => {
                            Err(self.error(Some(pipe), format!("error calling {name}: {e}")))
                        }
                        None => Err(self.error(
                            Some(pipe),
                            format!("can't evaluate field {name} in type {}", object.type_name()),
                        )),
                    },
                }
            }
            other => Err(self.error(
                Some(pipe),
                format!("can't evaluate field {name} in type {}", other.type_name()),
            )),
        }
    }

    fn call(
        &mut self,
        dot: &Value,
        pipe: &Pipe,
        name: &str,
        args: &[Arg],
        fin: Option<Value>,
    ) -> Result<(Value, Origin)> {
        if name == "and" || name == "or" {
            return self
                .and_or(dot, pipe, name == "and", args, fin)
                .map(|v| (v, Origin::Plain));
        }
        let Some(func) = self.ns.funcs.get(name).copied() else {
            return Err(self.error(Some(pipe), format!("{name:?} is not a defined function")));
        };
        let given = args.len() + usize::from(fin.is_some());
        let fixed = func.params.len();
        let ok_count = match func.variadic {
            Some(_) => given >= fixed,
            None => given == fixed,
        };
        if !ok_count {
            let want = if func.variadic.is_some() {
                format!("at least {fixed}")
            } else {
                fixed.to_string()
            };
            return Err(self.error(
                Some(pipe),
                format!("wrong number of args for {name}: want {want} got {given}"),
            ));
        }
        let mut values = Vec::with_capacity(given);
        for (i, arg) in args.iter().enumerate() {
            let param = func
                .params
                .get(i)
                .copied()
                .or(func.variadic)
                .unwrap_or(Param::Any);
            values.push(self.typed_arg(dot, pipe, param, arg)?);
        }
        if let Some(fin) = fin {
            let param = func
                .params
                .get(args.len())
                .copied()
                .or(func.variadic)
                .unwrap_or(Param::Any);
            values.push(self.convert(pipe, param, fin, Origin::Plain)?);
        }
        self.ns
            .step()
            .map_err(|message| self.error(Some(pipe), message))?;
        match (func.f)(self, values) {
            Ok(v) => {
                self.ns.check_size(&v).map_err(|message| {
                    self.error(Some(pipe), format!("error calling {name}: {message}"))
                })?;
                Ok((v, Origin::Interface))
            }
            Err(e) => Err(self.error(Some(pipe), format!("error calling {name}: {e}"))),
        }
    }

    /// Go 1.18's `and`/`or`: arguments evaluated in order, stopping at the first that
    /// decides; the deciding value itself is returned.
    fn and_or(
        &mut self,
        dot: &Value,
        pipe: &Pipe,
        is_and: bool,
        args: &[Arg],
        fin: Option<Value>,
    ) -> Result<Value> {
        let name = if is_and { "and" } else { "or" };
        if args.is_empty() && fin.is_none() {
            return Err(self.error(
                Some(pipe),
                format!("wrong number of args for {name}: want at least 1 got 0"),
            ));
        }
        let mut last = Value::Nil;
        for arg in args {
            last = self.arg_value(dot, pipe, arg)?.0;
            if last.is_true() != is_and {
                return Ok(last);
            }
        }
        if let Some(fin) = fin {
            last = fin;
        }
        Ok(last)
    }

    /// An argument converted to a function's parameter type, as Go's `evalArg` does:
    /// constants are typed by the parameter, computed values must already have its type.
    fn typed_arg(&mut self, dot: &Value, pipe: &Pipe, param: Param, arg: &Arg) -> Result<Value> {
        match (param, arg) {
            (Param::Any, _) => Ok(self.arg_value(dot, pipe, arg)?.0),
            (_, Arg::Nil) => match param {
                Param::Map => Ok(Value::Nil),
                _ => Err(self.error(
                    Some(pipe),
                    format!("cannot assign nil to {}", param.go_type()),
                )),
            },
            (Param::Int, Arg::Number(n)) => match n.int {
                Some(i) => Ok(Value::Int(i)),
                None => Err(self.error(Some(pipe), format!("expected integer; found {}", n.text))),
            },
            (Param::Str, Arg::String(s)) => Ok(Value::String(s.clone())),
            (Param::Bool, Arg::Bool(b)) => Ok(Value::Bool(*b)),
            (_, Arg::Number(n)) => Err(self.error(
                Some(pipe),
                format!("expected {}; found {}", param.go_type(), n.text),
            )),
            (_, Arg::String(s)) => Err(self.error(
                Some(pipe),
                format!("expected {}; found {}", param.go_type(), gofmt::quote(s)),
            )),
            (_, Arg::Bool(b)) => Err(self.error(
                Some(pipe),
                format!("expected {}; found {b}", param.go_type()),
            )),
            _ => {
                let (value, origin) = self.arg_value(dot, pipe, arg)?;
                self.convert(pipe, param, value, origin)
            }
        }
    }

    /// Go's `validateType`: a computed value passed where a typed parameter is expected.
    fn convert(&self, pipe: &Pipe, param: Param, value: Value, origin: Origin) -> Result<Value> {
        let fits = match (&value, param) {
            (_, Param::Any) => true,
            (Value::Nil, Param::Map) => origin == Origin::Plain,
            (Value::Nil, _) if origin == Origin::Plain => {
                return Err(self.error(
                    Some(pipe),
                    format!("invalid value; expected {}", param.go_type()),
                ));
            }
            (Value::String(_), Param::Str)
            | (Value::Int(_), Param::Int)
            | (Value::Bool(_), Param::Bool)
            | (Value::Map(_), Param::Map) => true,
            _ => false,
        };
        if !fits {
            let got = match value {
                Value::Nil => "interface {}".to_string(),
                ref v => v.type_name(),
            };
            return Err(self.error(
                Some(pipe),
                format!(
                    "wrong type for value; expected {}; got {got}",
                    param.go_type()
                ),
            ));
        }
        Ok(value)
    }
}
