//! Sprig's string functions. Go strings are bytes: `trunc`, `substr` and `len` count bytes.

use std::collections::BTreeMap;

use super::Param::{Any, Int, Str};
use super::convert::{strings_of, to_string};
use super::{Table, i, s};
use crate::gofmt;
use crate::value::Value;

pub(super) fn register(t: &mut Table) {
    t.add("hello", &[], |_, _| Ok(Value::str("Hello!")));
    t.add("trunc", &[Int, Str], |_, a| {
        Ok(Value::str(trunc(i(&a[0]), s(&a[1]))))
    });
    t.add("abbrev", &[Int, Str], |_, a| {
        Ok(Value::str(abbrev(i(&a[0]), s(&a[1]))))
    });
    t.add("abbrevboth", &[Int, Int, Str], |_, a| {
        Ok(Value::str(abbrevboth(i(&a[0]), i(&a[1]), s(&a[2]))))
    });
    t.add("trim", &[Str], |_, a| {
        Ok(Value::str(s(&a[0]).trim_matches(char::is_whitespace)))
    });
    t.add("trimAll", &[Str, Str], |_, a| {
        Ok(Value::str(trim_cutset(s(&a[1]), s(&a[0]))))
    });
    t.add("trimall", &[Str, Str], |_, a| {
        Ok(Value::str(trim_cutset(s(&a[1]), s(&a[0]))))
    });
    t.add("trimSuffix", &[Str, Str], |_, a| {
        Ok(Value::str(
            s(&a[1]).strip_suffix(s(&a[0])).unwrap_or(s(&a[1])),
        ))
    });
    t.add("trimPrefix", &[Str, Str], |_, a| {
        Ok(Value::str(
            s(&a[1]).strip_prefix(s(&a[0])).unwrap_or(s(&a[1])),
        ))
    });
    t.add("upper", &[Str], |_, a| {
        Ok(Value::str(s(&a[0]).to_uppercase()))
    });
    t.add("lower", &[Str], |_, a| {
        Ok(Value::str(s(&a[0]).to_lowercase()))
    });
    t.add("title", &[Str], |_, a| Ok(Value::str(title(s(&a[0])))));
    t.add("untitle", &[Str], |_, a| Ok(Value::str(untitle(s(&a[0])))));
    t.add("substr", &[Int, Int, Str], |_, a| {
        Ok(Value::str(substr(i(&a[0]), i(&a[1]), s(&a[2]))))
    });
    t.add("repeat", &[Int, Str], |st, a| {
        let count = i(&a[0]).max(0) as u128;
        st.ns.allow_bytes(count * s(&a[1]).len() as u128)?;
        Ok(Value::str(s(&a[1]).repeat(count as usize)))
    });
    t.add("nospace", &[Str], |_, a| {
        Ok(Value::str(
            s(&a[0])
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>(),
        ))
    });
    t.add("initials", &[Str], |_, a| {
        Ok(Value::str(initials(s(&a[0]))))
    });
    t.add("swapcase", &[Str], |_, a| {
        Ok(Value::str(swapcase(s(&a[0]))))
    });
    t.add("snakecase", &[Str], |_, a| {
        Ok(Value::str(delimited(s(&a[0]), '_')))
    });
    t.add("kebabcase", &[Str], |_, a| {
        Ok(Value::str(delimited(s(&a[0]), '-')))
    });
    t.add("camelcase", &[Str], |_, a| {
        Ok(Value::str(camelcase(s(&a[0]))))
    });
    t.add("wrap", &[Int, Str], |_, a| {
        Ok(Value::str(wrap(i(&a[0]), "\n", s(&a[1]))))
    });
    t.add("wrapWith", &[Int, Str, Str], |_, a| {
        Ok(Value::str(wrap(i(&a[0]), s(&a[1]), s(&a[2]))))
    });
    t.add("contains", &[Str, Str], |_, a| {
        Ok(Value::Bool(s(&a[1]).contains(s(&a[0]))))
    });
    t.add("hasPrefix", &[Str, Str], |_, a| {
        Ok(Value::Bool(s(&a[1]).starts_with(s(&a[0]))))
    });
    t.add("hasSuffix", &[Str, Str], |_, a| {
        Ok(Value::Bool(s(&a[1]).ends_with(s(&a[0]))))
    });
    t.variadic("quote", &[], Any, |_, a| {
        Ok(Value::str(quote_each(&a, |v| gofmt::quote(&to_string(v)))))
    });
    t.variadic("squote", &[], Any, |_, a| {
        Ok(Value::str(quote_each(&a, |v| {
            format!("'{}'", to_string(v))
        })))
    });
    t.variadic("cat", &[], Any, |_, a| {
        let parts: Vec<Value> = a.into_iter().filter(|v| !matches!(v, Value::Nil)).collect();
        Ok(Value::str(gofmt::sprintf(
            &vec!["%v"; parts.len()].join(" "),
            &parts,
        )))
    });
    t.add("indent", &[Int, Str], |st, a| {
        st.ns.allow_bytes(indented_size(i(&a[0]), s(&a[1])))?;
        Ok(Value::str(indent(i(&a[0]), s(&a[1]))))
    });
    t.add("nindent", &[Int, Str], |st, a| {
        st.ns.allow_bytes(indented_size(i(&a[0]), s(&a[1])))?;
        Ok(Value::str(format!("\n{}", indent(i(&a[0]), s(&a[1])))))
    });
    t.add("replace", &[Str, Str, Str], |_, a| {
        Ok(Value::str(s(&a[2]).replace(s(&a[0]), s(&a[1]))))
    });
    t.add("plural", &[Str, Str, Int], |_, a| {
        Ok(if i(&a[2]) == 1 {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    t.add("split", &[Str, Str], |_, a| {
        Ok(numbered(s(&a[1]).split(s(&a[0]))))
    });
    t.add("splitn", &[Str, Int, Str], |_, a| {
        let n = i(&a[1]);
        if n == 0 {
            return Ok(Value::empty_map());
        }
        let parts: Vec<&str> = if n < 0 {
            s(&a[2]).split(s(&a[0])).collect()
        } else {
            s(&a[2]).splitn(n as usize, s(&a[0])).collect()
        };
        Ok(numbered(parts.into_iter()))
    });
    t.add("splitList", &[Str, Str], |_, a| {
        Ok(Value::list(
            split_go(s(&a[1]), s(&a[0]))
                .into_iter()
                .map(Value::from)
                .collect(),
        ))
    });
    t.add("join", &[Str, Any], |_, a| {
        Ok(Value::str(strings_of(&a[1]).join(s(&a[0]))))
    });
    t.add("sortAlpha", &[Any], |_, a| {
        let mut list = strings_of(&a[0]);
        list.sort();
        Ok(Value::list(list.into_iter().map(Value::from).collect()))
    });
    t.add("base", &[Str], |_, a| Ok(Value::str(path_base(s(&a[0])))));
    t.add("dir", &[Str], |_, a| Ok(Value::str(path_dir(s(&a[0])))));
    t.add("clean", &[Str], |_, a| Ok(Value::str(path_clean(s(&a[0])))));
    t.add("ext", &[Str], |_, a| Ok(Value::str(path_ext(s(&a[0])))));
    t.add("isAbs", &[Str], |_, a| {
        Ok(Value::Bool(s(&a[0]).starts_with('/')))
    });
    t.add("osBase", &[Str], |_, a| Ok(Value::str(path_base(s(&a[0])))));
    t.add("osDir", &[Str], |_, a| Ok(Value::str(path_dir(s(&a[0])))));
    t.add("osClean", &[Str], |_, a| {
        Ok(Value::str(path_clean(s(&a[0]))))
    });
    t.add("osExt", &[Str], |_, a| Ok(Value::str(path_ext(s(&a[0])))));
    t.add("osIsAbs", &[Str], |_, a| {
        Ok(Value::Bool(s(&a[0]).starts_with('/')))
    });
    t.variadic("seq", &[], Int, |st, a| {
        let params: Vec<i64> = a.iter().map(i).collect();
        let first = params.first().copied().unwrap_or(0);
        let last = params.last().copied().unwrap_or(0);
        st.ns.allow_items(first.abs_diff(last) as u128)?;
        Ok(Value::str(seq(&params)))
    });
}

/// Go's `s[a:b]` on bytes; a cut through a character keeps its bytes, lossily shown.
fn byte_slice(s: &str, start: usize, end: usize) -> String {
    match s.get(start..end) {
        Some(sub) => sub.to_string(),
        None => String::from_utf8_lossy(&s.as_bytes()[start..end]).into_owned(),
    }
}

fn trunc(c: i64, s: &str) -> String {
    let len = s.len() as i64;
    if c < 0 && len + c > 0 {
        return byte_slice(s, (len + c) as usize, s.len());
    }
    if c >= 0 && len > c {
        return byte_slice(s, 0, c as usize);
    }
    s.to_string()
}

fn abbrev(width: i64, s: &str) -> String {
    if width < 4 || (s.len() as i64) <= width {
        return s.to_string();
    }
    format!("{}...", byte_slice(s, 0, (width - 3) as usize))
}

fn abbrevboth(left: i64, right: i64, s: &str) -> String {
    // goutils.AbbreviateFull
    let len = s.len() as i64;
    if right < 4 || (left > 0 && right < 7) || len <= right {
        return s.to_string();
    }
    let mut offset = left.min(len);
    if len - offset < right - 3 {
        offset = len - (right - 3);
    }
    if offset <= 4 {
        return format!("{}...", byte_slice(s, 0, (right - 3) as usize));
    }
    if right < 7 {
        return s.to_string();
    }
    if offset + right - 3 < len {
        let rest = abbrev(right - 3, &byte_slice(s, offset as usize, s.len()));
        return format!("...{rest}");
    }
    format!(
        "...{}",
        byte_slice(s, (len - (right - 3)) as usize, s.len())
    )
}

fn substr(start: i64, end: i64, s: &str) -> String {
    let len = s.len() as i64;
    if start < 0 {
        return byte_slice(s, 0, end.clamp(0, len) as usize);
    }
    if end < 0 || end > len {
        return byte_slice(s, start.min(len) as usize, s.len());
    }
    byte_slice(s, start.min(end) as usize, end as usize)
}

/// Go's `strings.Trim(s, cutset)`.
fn trim_cutset(s: &str, cutset: &str) -> String {
    s.trim_matches(|c| cutset.contains(c)).to_string()
}

/// Go's `strings.Title`: the first letter of each word upper-cased.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev = ' ';
    for c in s.chars() {
        if is_separator(prev) {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphanumeric() {
        return false;
    }
    c.is_whitespace()
}

fn untitle(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_space = true;
    for c in s.chars() {
        if prev_space {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        prev_space = c.is_whitespace();
    }
    out
}

fn initials(s: &str) -> String {
    s.split_whitespace()
        .filter_map(|w| w.chars().next())
        .collect()
}

fn swapcase(s: &str) -> String {
    // goutils.SwapCase: title-case after whitespace is lowered, upper lowered, lower uppered.
    s.chars()
        .map(|c| {
            if c.is_uppercase() {
                c.to_lowercase().collect::<String>()
            } else if c.is_lowercase() {
                c.to_uppercase().collect::<String>()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Words of an identifier, split where xstrings splits them: at `_`, `-`, spaces, and at
/// lower-to-upper and letter-digit changes.
fn words(s: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (idx, &c) in chars.iter().enumerate() {
        if c == '_' || c == '-' || c.is_whitespace() || c == '.' {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        if let Some(&prev) = current.chars().last().as_ref() {
            let next_lower = chars.get(idx + 1).is_some_and(|n| n.is_lowercase());
            let boundary = (prev.is_lowercase() && c.is_uppercase())
                || (prev.is_uppercase() && c.is_uppercase() && next_lower);
            if boundary {
                words.push(std::mem::take(&mut current));
            }
        }
        current.push(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn delimited(s: &str, sep: char) -> String {
    words(s)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join(&sep.to_string())
}

fn camelcase(s: &str) -> String {
    // xstrings.ToCamelCase: `_` separated words, each capitalised; other characters kept.
    let mut out = String::with_capacity(s.len());
    let mut upper_next = true;
    for c in s.chars() {
        if c == '_' {
            upper_next = true;
            continue;
        }
        if upper_next {
            out.extend(c.to_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// goutils.WrapCustom with long words not broken.
fn wrap(width: i64, newline: &str, s: &str) -> String {
    let width = width.max(1) as usize;
    let mut out = String::new();
    for (n, line) in s.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let mut len = 0usize;
        for (k, word) in line.split(' ').filter(|w| !w.is_empty()).enumerate() {
            if k > 0 {
                if len + 1 + word.len() > width {
                    out.push_str(newline);
                    len = 0;
                } else {
                    out.push(' ');
                    len += 1;
                }
            }
            out.push_str(word);
            len += word.len();
        }
    }
    out
}

fn quote_each(args: &[Value], f: impl Fn(&Value) -> String) -> String {
    args.iter()
        .filter(|v| !matches!(v, Value::Nil))
        .map(f)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The bytes `indent` would write, to refuse a huge one before building it.
fn indented_size(spaces: i64, v: &str) -> u128 {
    (spaces.max(0) as u128) * (v.matches('\n').count() as u128 + 1) + v.len() as u128
}

fn indent(spaces: i64, v: &str) -> String {
    let pad = " ".repeat(spaces.max(0) as usize);
    format!("{pad}{}", v.replace('\n', &format!("\n{pad}")))
}

/// Go's `strings.Split`: an empty separator splits into characters.
fn split_go(s: &str, sep: &str) -> Vec<String> {
    if sep.is_empty() {
        return s.chars().map(String::from).collect();
    }
    s.split(sep).map(String::from).collect()
}

fn numbered<'a>(parts: impl Iterator<Item = &'a str>) -> Value {
    let map: BTreeMap<String, Value> = parts
        .enumerate()
        .map(|(n, p)| (format!("_{n}"), Value::str(p)))
        .collect();
    Value::map(map)
}

fn path_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            part => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn path_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

fn path_dir(p: &str) -> String {
    let dir = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => "",
    };
    path_clean(dir)
}

fn path_ext(p: &str) -> String {
    let base = p.rsplit('/').next().unwrap_or(p);
    match base.rfind('.') {
        Some(i) => base[i..].to_string(),
        None => String::new(),
    }
}

/// Sprig's `seq`, as GNU seq prints it.
fn seq(params: &[i64]) -> String {
    let (start, step, end) = match params {
        [end] => (1, 1, *end),
        [start, end] => (*start, if end < start { -1 } else { 1 }, *end),
        [start, step, end] => (*start, *step, *end),
        _ => return String::new(),
    };
    let mut out = Vec::new();
    if step == 0 || (step > 0 && start > end) || (step < 0 && start < end) {
        return String::new();
    }
    let mut n = start;
    while (step > 0 && n <= end) || (step < 0 && n >= end) {
        out.push(n.to_string());
        n += step;
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_semantics_and_names() {
        assert_eq!(trunc(5, "abcdefgh"), "abcde");
        assert_eq!(trunc(-3, "abcdefgh"), "fgh");
        assert_eq!(trunc(63, "short"), "short");
        assert_eq!(substr(1, 3, "hello"), "el");
        assert_eq!(indent(2, "a\nb"), "  a\n  b");
        assert_eq!(title("hello wide_world-x"), "Hello Wide_world-X");
        assert_eq!(delimited("FirstName", '_'), "first_name");
        assert_eq!(delimited("HTTPServer", '-'), "http-server");
        assert_eq!(camelcase("http_server"), "HttpServer");
        assert_eq!(path_clean("a/../b/./c/"), "b/c");
        assert_eq!(path_dir("a/b/c.yaml"), "a/b");
        assert_eq!(path_ext("x/y.tar.gz"), ".gz");
        assert_eq!(seq(&[3]), "1 2 3");
        assert_eq!(wrap(5, "\n", "aaa bbb ccc"), "aaa\nbbb\nccc");
    }
}
