//! The functions a chart can call: Go's template builtins, Sprig's, and Helm's own.
//!
//! Each is declared with Go's parameter types, because Go converts (or refuses) arguments
//! by them before the function runs — `trunc .Values.n "x"` fails on the float where Sprig
//! never sees it. Random strings, keys and certificates draw from the render's secret key
//! (stable under it); functions whose output could not be the same on every render (salted
//! hashes, the clock) are refused by name: a GitOps controller that renders a new value
//! every reconcile would report drift forever.

mod builtin;
mod certs;
mod convert;
mod dicts;
mod duration;
mod encoding;
mod helm;
mod json;
mod lists;
mod math;
mod password;
mod random;
mod regex;
mod semver;
mod strings;
mod toml;
pub(crate) mod yaml;
mod yaml_json_strings;
mod yaml_keys;
mod yaml_scalar;

use std::collections::HashMap;

use crate::template::{Body, Func, Param, State};
use crate::value::Value;

/// Parses a version as Masterminds/semver does (`v` prefix, missing parts allowed).
pub(crate) fn parse_version(text: &str) -> Result<(), String> {
    semver::Version::parse(text).map(|_| ())
}

/// Whether `version` satisfies the Masterminds/semver `range`.
pub(crate) fn version_satisfies(range: &str, version: &str) -> Result<bool, String> {
    Ok(semver::Constraints::parse(range)?.check(&semver::Version::parse(version)?))
}

/// A value as Go's `json.Marshal` writes it.
pub(crate) fn go_json(v: &Value) -> String {
    json::to_json(v, false, None)
}

/// Registers functions into a table.
pub(crate) struct Table(HashMap<&'static str, Func>);

impl Table {
    /// `name(params...)`.
    pub(crate) fn add(&mut self, name: &'static str, params: &'static [Param], f: Body) {
        self.0.insert(
            name,
            Func {
                params,
                variadic: None,
                f,
            },
        );
    }

    /// `name(params..., rest...)`.
    pub(crate) fn variadic(
        &mut self,
        name: &'static str,
        params: &'static [Param],
        rest: Param,
        f: Body,
    ) {
        self.0.insert(
            name,
            Func {
                params,
                variadic: Some(rest),
                f,
            },
        );
    }

    /// Refuses `name` with `why` whenever a chart calls it.
    pub(crate) fn refuse(&mut self, name: &'static str) {
        self.0.insert(
            name,
            Func {
                params: &[],
                variadic: Some(Param::Any),
                f: refused,
            },
        );
    }
}

fn refused(state: &mut State<'_>, _: Vec<Value>) -> Result<Value, String> {
    let _ = state;
    Err("plumb refuses this function: its result differs on every render (a random salt or IV, a UUID, the time), \
         so the app would never stop drifting; set the value in the chart's values instead, or render the chart \
         with --helm-external"
        .into())
}

/// Every function a chart may call.
pub(crate) fn table() -> HashMap<&'static str, Func> {
    let mut t = Table(HashMap::new());
    builtin::register(&mut t);
    strings::register(&mut t);
    convert::register(&mut t);
    lists::register(&mut t);
    dicts::register(&mut t);
    math::register(&mut t);
    duration::register(&mut t);
    encoding::register(&mut t);
    regex::register(&mut t);
    semver::register(&mut t);
    random::register(&mut t);
    certs::register(&mut t);
    password::register(&mut t);
    helm::register(&mut t);
    toml::register(&mut t);
    for name in REFUSED {
        t.refuse(name);
    }
    t.0
}

/// Sprig functions whose output cannot be reproduced: passwords hashed with a random salt,
/// AES with a random IV, the clock. (Random strings, keys and certificates are drawn from the
/// render's key instead: `random.rs`, `certs.rs`.)
const REFUSED: [&str; 20] = [
    "bcrypt",
    "htpasswd",
    "encryptAES",
    "decryptAES",
    "randBytes",
    "uuidv4",
    "now",
    "date",
    "dateInZone",
    "date_in_zone",
    "dateModify",
    "date_modify",
    "mustDateModify",
    "must_date_modify",
    "htmlDate",
    "htmlDateInZone",
    "ago",
    "toDate",
    "mustToDate",
    "unixEpoch",
];

/// The one argument a one-parameter body receives.
pub(crate) fn one(args: Vec<Value>) -> Value {
    args.into_iter().next().unwrap_or(Value::Nil)
}

/// A string argument (already converted by its `Str` parameter).
pub(crate) fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// An integer argument (already converted by its `Int` parameter).
pub(crate) fn i(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    /// The table has every function helm v4.3.2 offers, so a chart never meets
    /// `function "x" not defined` in plumb where helm renders it.
    #[test]
    fn every_helm_function_is_in_the_table() {
        let names = include_str!("../../tests/fixtures/helm-4.3.2-functions.txt");
        let table = super::table();
        let missing: Vec<&str> = names
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter(|name| !table.contains_key(name))
            .collect();
        assert!(missing.is_empty(), "missing: {missing:?}");
    }
}
