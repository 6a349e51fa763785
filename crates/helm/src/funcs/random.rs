//! Sprig's random strings and numbers, drawn from the render's keyed generator
//! ([`crate::randomness`]): stable for the same key, release and template, unguessable
//! without the key. Each call draws from a stream of its own, named by the template and how
//! many draws that template made before it.

use rand_chacha::ChaCha20Rng;

use super::Param::Int;
use super::{Table, i};
use crate::randomness::below;
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
        let span = hi.wrapping_sub(lo) as u64;
        Ok(Value::Int(
            lo.wrapping_add(below(&mut stream(st, "rand"), span) as i64),
        ))
    });
    t.add("shuffle", &[super::Param::Str], |st, a| {
        let mut chars: Vec<char> = super::s(&a[0]).chars().collect();
        let mut rng = stream(st, "rand");
        for n in (1..chars.len()).rev() {
            let k = below(&mut rng, n as u64 + 1) as usize;
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
    let letters = alphabet.as_bytes();
    let mut rng = stream(state, "rand");
    Ok((0..count.max(0))
        .map(|_| char::from(letters[below(&mut rng, letters.len() as u64) as usize]))
        .collect())
}

/// The generator of this call: the `what`-th draw of its kind in the executing template.
pub(super) fn stream(state: &mut State<'_>, what: &str) -> ChaCha20Rng {
    let counter = format!("{}\0{what}", state.name);
    let draw = state.ns.draws.entry(counter).or_insert(0);
    *draw += 1;
    let n = *draw;
    state
        .ns
        .random
        .stream(&[what.as_bytes(), state.name.as_bytes(), &n.to_be_bytes()])
}
