//! Masterminds/semver v3, as `semverCompare` and `semver` use it. Its rules differ from
//! Cargo's: a version with a prerelease (`v1.29.3-gke.1`) satisfies no constraint unless the
//! constraint has a prerelease too — hence the `>=1.21-0` charts write — and `x`/`*`
//! wildcards make a constraint "dirty".

use std::cmp::Ordering;
use std::rc::Rc;

use super::Param::Str;
use super::{Table, s};
use crate::value::{Object, Value};

pub(super) fn register(t: &mut Table) {
    t.add("semverCompare", &[Str, Str], |_, a| {
        let constraints = Constraints::parse(s(&a[0]))?;
        let version = Version::parse(s(&a[1]))?;
        Ok(Value::Bool(constraints.check(&version)))
    });
    t.add("semver", &[Str], |_, a| {
        Ok(Value::Object(Rc::new(Version::parse(s(&a[0]))?)))
    });
}

/// A parsed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    pub(crate) major: u64,
    pub(crate) minor: u64,
    pub(crate) patch: u64,
    pub(crate) pre: String,
    pub(crate) metadata: String,
    original: String,
}

impl Version {
    /// Masterminds' lenient `NewVersion`: `v` prefix, missing minor and patch allowed.
    pub(crate) fn parse(text: &str) -> Result<Version, String> {
        let invalid = || "Invalid Semantic Version".to_string();
        let body = text.strip_prefix('v').unwrap_or(text);
        let (body, metadata) = match body.split_once('+') {
            Some((b, m)) => (b, m.to_string()),
            None => (body, String::new()),
        };
        let (core, pre) = match body.split_once('-') {
            Some((c, p)) => (c, p.to_string()),
            None => (body, String::new()),
        };
        let mut parts = core.split('.');
        let mut number = |required: bool| -> Result<u64, String> {
            match parts.next() {
                None if !required => Ok(0),
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                    p.parse().map_err(|_| invalid())
                }
                _ => Err(invalid()),
            }
        };
        let major = number(true)?;
        let minor = number(false)?;
        let patch = number(false)?;
        if parts.next().is_some() {
            return Err(invalid());
        }
        let ident_ok = |s: &str| {
            s.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        };
        if (!pre.is_empty() && !ident_ok(&pre)) || (!metadata.is_empty() && !ident_ok(&metadata)) {
            return Err(invalid());
        }
        for ident in pre.split('.').filter(|p| !p.is_empty()) {
            if ident.len() > 1
                && ident.starts_with('0')
                && ident.bytes().all(|b| b.is_ascii_digit())
            {
                return Err("Version segment starts with 0".into());
            }
        }
        Ok(Version {
            major,
            minor,
            patch,
            pre,
            metadata,
            original: text.to_string(),
        })
    }

    fn compare(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| compare_prerelease(&self.pre, &other.pre))
    }
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let (mut xs, mut ys) = (a.split('.'), b.split('.'));
    loop {
        match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

impl Object for Version {
    fn type_name(&self) -> &str {
        "*semver.Version"
    }
    fn field(&self, name: &str) -> Option<Value> {
        Some(match name {
            "Major" => Value::Int(self.major as i64),
            "Minor" => Value::Int(self.minor as i64),
            "Patch" => Value::Int(self.patch as i64),
            "Prerelease" => Value::str(self.pre.as_str()),
            "Metadata" => Value::str(self.metadata.as_str()),
            "Original" => Value::str(self.original.as_str()),
            "String" => Value::str(self.display()),
            _ => return None,
        })
    }
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let other = || match args.first().map(|v| v.as_str().map(Version::parse)) {
            Some(Some(Ok(v))) => Ok(v),
            _ => Err("wrong argument: a version string is expected".to_string()),
        };
        Some(match name {
            "Compare" => other().map(|o| Value::Int(self.compare(&o) as i64)),
            "LessThan" => other().map(|o| Value::Bool(self.compare(&o) == Ordering::Less)),
            "GreaterThan" => other().map(|o| Value::Bool(self.compare(&o) == Ordering::Greater)),
            "Equal" => other().map(|o| Value::Bool(self.compare(&o) == Ordering::Equal)),
            _ => return None,
        })
    }
    fn display(&self) -> String {
        let mut out = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if !self.pre.is_empty() {
            out.push('-');
            out.push_str(&self.pre);
        }
        if !self.metadata.is_empty() {
            out.push('+');
            out.push_str(&self.metadata);
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Equal,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    Tilde,
    Caret,
}

#[derive(Debug)]
struct Constraint {
    op: Op,
    con: Version,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

/// `||`-separated groups of constraints that must all hold.
#[derive(Debug)]
pub(crate) struct Constraints(Vec<Vec<Constraint>>);

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

impl Constraints {
    pub(crate) fn parse(text: &str) -> Result<Constraints, String> {
        let mut groups = Vec::new();
        for group in text.split("||") {
            let group = expand_hyphen_ranges(group.trim());
            let mut constraints = Vec::new();
            for token in tokens(&group) {
                constraints.push(
                    parse_one(&token)
                        .ok_or_else(|| format!("improper constraint: {}", text.trim()))?,
                );
            }
            if constraints.is_empty() {
                return Err(format!("improper constraint: {}", text.trim()));
            }
            groups.push(constraints);
        }
        Ok(Constraints(groups))
    }

    pub(crate) fn check(&self, v: &Version) -> bool {
        self.0.iter().any(|group| group.iter().all(|c| c.check(v)))
    }
}

/// `1.2 - 1.4.5` is `>= 1.2, <= 1.4.5`.
fn expand_hyphen_ranges(group: &str) -> String {
    let words: Vec<&str> = group.split_whitespace().collect();
    let mut out = Vec::new();
    let mut n = 0;
    while n < words.len() {
        if n + 2 < words.len() && words[n + 1] == "-" {
            out.push(format!(">={}", words[n]));
            out.push(format!("<={}", words[n + 2]));
            n += 3;
        } else {
            out.push(words[n].to_string());
            n += 1;
        }
    }
    out.join(" ")
}

/// Constraints separated by commas or spaces; an operator may stand apart from its version.
fn tokens(group: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending_op = String::new();
    for word in group
        .split([',', ' '])
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        if word.chars().all(|c| "=!<>~^".contains(c)) {
            pending_op.push_str(word);
            continue;
        }
        out.push(format!("{}{word}", std::mem::take(&mut pending_op)));
    }
    out
}

fn parse_one(token: &str) -> Option<Constraint> {
    let op_len = token
        .find(|c: char| !"=!<>~^".contains(c))
        .unwrap_or(token.len());
    let (op_text, version) = token.split_at(op_len);
    let op = match op_text {
        "" | "=" => Op::Equal,
        "!=" => Op::NotEqual,
        ">" => Op::Greater,
        "<" => Op::Less,
        ">=" | "=>" => Op::GreaterEqual,
        "<=" | "=<" => Op::LessEqual,
        "~" | "~>" => Op::Tilde,
        "^" => Op::Caret,
        _ => return None,
    };
    let version = version.strip_prefix('v').unwrap_or(version);
    let (core, suffix) = match version.find(['-', '+']) {
        Some(i) => version.split_at(i),
        None => (version, ""),
    };
    let pre = suffix.split('+').next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !(is_x(p) || p.bytes().all(|b| b.is_ascii_digit())))
    {
        return None;
    }
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let normalized = if is_x(parts[0]) {
        dirty = true;
        format!("0.0.0{pre}")
    } else if parts.get(1).is_some_and(|p| is_x(p)) {
        dirty = true;
        minor_dirty = true;
        format!("{}.0.0{pre}", parts[0])
    } else if parts.get(2).is_some_and(|p| is_x(p)) {
        dirty = true;
        patch_dirty = true;
        format!("{}.{}.0{pre}", parts[0], parts[1])
    } else {
        format!("{core}{pre}")
    };
    let con = Version::parse(&normalized).ok()?;
    Some(Constraint {
        op,
        con,
        dirty,
        minor_dirty,
        patch_dirty,
    })
}

impl Constraint {
    fn check(&self, v: &Version) -> bool {
        let c = &self.con;
        // A prerelease version is compatible only with constraints that name prereleases.
        if !v.pre.is_empty() && c.pre.is_empty() {
            return false;
        }
        match self.op {
            Op::Equal if self.dirty => self.tilde(v),
            Op::Equal => v.compare(c) == Ordering::Equal,
            Op::NotEqual => {
                if self.dirty {
                    if c.major != v.major {
                        return true;
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return true;
                    }
                    if self.minor_dirty {
                        return false;
                    }
                    if c.patch != v.patch && !self.patch_dirty {
                        return true;
                    }
                    if self.patch_dirty {
                        return compare_prerelease(&v.pre, &c.pre) != Ordering::Equal
                            && (!v.pre.is_empty() || !c.pre.is_empty());
                    }
                }
                v.compare(c) != Ordering::Equal
            }
            Op::Greater => {
                if !self.dirty {
                    return v.compare(c) == Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                if self.patch_dirty {
                    return v.minor > c.minor;
                }
                v.compare(c) == Ordering::Greater
            }
            Op::Less => v.compare(c) == Ordering::Less,
            Op::GreaterEqual => v.compare(c) != Ordering::Less,
            Op::LessEqual => {
                if !self.dirty {
                    return v.compare(c) != Ordering::Greater;
                }
                !(v.major > c.major
                    || (v.major == c.major && v.minor > c.minor && !self.minor_dirty))
            }
            Op::Tilde => self.tilde(v),
            Op::Caret => {
                if v.compare(c) == Ordering::Less {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if v.major > 0 {
                    return false;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.minor == c.minor;
                }
                if v.minor > 0 {
                    return false;
                }
                v.patch == c.patch
            }
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        v.minor == c.minor || self.minor_dirty
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(constraint: &str, version: &str) -> bool {
        Constraints::parse(constraint)
            .unwrap()
            .check(&Version::parse(version).unwrap())
    }

    #[test]
    fn constraints_charts_write() {
        assert!(check(">=1.19-0", "v1.29.3-gke.100"));
        assert!(!check(">=1.19", "v1.29.3-gke.100"));
        assert!(check(">=1.19", "v1.29.3"));
        assert!(check("<1.22-0", "1.21.0"));
        assert!(!check("<1.22-0", "1.22.0"));
        assert!(check("^1.2.3", "1.9.0"));
        assert!(!check("^1.2.3", "2.0.0"));
        assert!(check("~1.2.3", "1.2.9"));
        assert!(!check("~1.2.3", "1.3.0"));
        assert!(check("1.x", "1.7.0"));
        assert!(check(">= 1.2, < 3.0.0 || >= 4.2.3", "4.5.0"));
        assert!(check("1.2 - 1.4.5", "1.3.0"));
        assert!(!check("1.2 - 1.4.5", "1.5.0"));
        assert!(check(">1.x", "2.0.0"));
        assert!(!check(">1.x", "1.5.0"));
    }
}
