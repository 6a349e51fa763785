//! Sprig's random strings, made stable: each call draws from a generator seeded by the
//! release, the template and how many draws came before it in that template. `helm template`
//! gives a new password on every run — which a GitOps controller would apply as drift on
//! every reconcile (Argo CD's "Random Data" problem); plumb gives the same one every render.

use super::Param::Int;
use super::{Table, i};
use crate::template::State;
use crate::value::Value;

pub(super) fn register(t: &mut Table) {
    t.add("randAlphaNum", &[Int], |st, a| {
        draw(st, i(&a[0]), ALNUM).map(Value::str)
    });
    t.add("randAlpha", &[Int], |st, a| {
        draw(st, i(&a[0]), ALPHA).map(Value::str)
    });
    t.add("randNumeric", &[Int], |st, a| {
        draw(st, i(&a[0]), DIGITS).map(Value::str)
    });
    t.add("randAscii", &[Int], |st, a| {
        draw(st, i(&a[0]), ASCII).map(Value::str)
    });
    t.add("randInt", &[Int, Int], |st, a| {
        let (lo, hi) = (i(&a[0]), i(&a[1]));
        if hi <= lo {
            return Err("invalid argument to Intn".into());
        }
        Ok(Value::Int(lo + (next(st) % (hi - lo) as u64) as i64))
    });
    t.add("shuffle", &[super::Param::Str], |st, a| {
        let mut chars: Vec<char> = super::s(&a[0]).chars().collect();
        for n in (1..chars.len()).rev() {
            let k = (next(st) % (n as u64 + 1)) as usize;
            chars.swap(n, k);
        }
        Ok(Value::str(chars.into_iter().collect::<String>()))
    });
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const ALPHA: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DIGITS: &str = "0123456789";
const ASCII: &str = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

fn draw(state: &mut State<'_>, count: i64, alphabet: &str) -> Result<String, String> {
    state.ns.allow_bytes(count.max(0) as u128)?;
    let letters: Vec<char> = alphabet.chars().collect();
    Ok((0..count.max(0))
        .map(|_| letters[(next(state) % letters.len() as u64) as usize])
        .collect())
}

/// splitmix64 over (seed, template, draw number).
fn next(state: &mut State<'_>) -> u64 {
    let draw = state.ns.draws.entry(state.name.clone()).or_insert(0);
    *draw += 1;
    let mut z = state.ns.seed ^ fnv(&state.name) ^ draw.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a, for seeds from names.
pub(crate) fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}
