//! Sprig's regular expressions. Go's RE2 and the `regex` crate share a syntax, and both read
//! `$1`, `$name` and `${name}` in a replacement the same way.

use super::Param::{Int, Str};
use super::{Table, i, s};
use crate::value::Value;

pub(super) fn register(t: &mut Table) {
    for (name, must) in [("regexMatch", false), ("mustRegexMatch", true)] {
        let f: super::Body = if must {
            |_, a| Ok(Value::Bool(compile(s(&a[0]))?.is_match(s(&a[1]))))
        } else {
            |_, a| {
                Ok(Value::Bool(
                    compile(s(&a[0]))
                        .map(|r| r.is_match(s(&a[1])))
                        .unwrap_or(false),
                ))
            }
        };
        t.add(name, &[Str, Str], f);
    }
    for name in ["regexFindAll", "mustRegexFindAll"] {
        t.add(name, &[Str, Str, Int], |_, a| {
            let re = compile(s(&a[0]))?;
            let n = i(&a[2]);
            let found = re
                .find_iter(s(&a[1]))
                .take(if n < 0 { usize::MAX } else { n as usize });
            Ok(Value::list(found.map(|m| Value::str(m.as_str())).collect()))
        });
    }
    for name in ["regexFind", "mustRegexFind"] {
        t.add(name, &[Str, Str], |_, a| {
            Ok(Value::str(
                compile(s(&a[0]))?.find(s(&a[1])).map_or("", |m| m.as_str()),
            ))
        });
    }
    for name in ["regexReplaceAll", "mustRegexReplaceAll"] {
        t.add(name, &[Str, Str, Str], |_, a| {
            Ok(Value::str(
                compile(s(&a[0]))?
                    .replace_all(s(&a[1]), s(&a[2]))
                    .into_owned(),
            ))
        });
    }
    for name in ["regexReplaceAllLiteral", "mustRegexReplaceAllLiteral"] {
        t.add(name, &[Str, Str, Str], |_, a| {
            Ok(Value::str(
                compile(s(&a[0]))?
                    .replace_all(s(&a[1]), regex::NoExpand(s(&a[2])))
                    .into_owned(),
            ))
        });
    }
    for name in ["regexSplit", "mustRegexSplit"] {
        t.add(name, &[Str, Str, Int], |_, a| {
            let re = compile(s(&a[0]))?;
            let n = i(&a[2]);
            let parts: Vec<Value> = if n < 0 {
                re.split(s(&a[1])).map(Value::from).collect()
            } else {
                re.splitn(s(&a[1]), n as usize).map(Value::from).collect()
            };
            Ok(Value::list(parts))
        });
    }
    t.add("regexQuoteMeta", &[Str], |_, a| {
        Ok(Value::str(regex::escape(s(&a[0]))))
    });
}

fn compile(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| format!("error parsing regexp: {e}"))
}
