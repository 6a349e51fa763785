//! Sprig's `derivePassword`: Master Password's algorithm (scrypt of the master password
//! salted with the user, HMAC-SHA256 of the site and counter, read through a password
//! template). Deterministic given its inputs, so plumb renders what helm renders.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Param::{Int, Str};
use super::{Table, i, s};
use crate::value::Value;

pub(super) fn register(t: &mut Table) {
    t.add("derivePassword", &[Int, Str, Str, Str, Str], |st, a| {
        // Go converts the counter to uint32 before the call.
        let counter =
            u32::try_from(i(&a[0])).map_err(|_| format!("value {} overflows uint32", i(&a[0])))?;
        // scrypt here needs 32 MiB and a good part of a second: a template is untrusted,
        // so a render may call it a bounded number of times.
        let calls = st.ns.draws.entry("\0derivePassword".into()).or_insert(0);
        *calls += 1;
        if *calls > MAX_CALLS {
            return Err(format!(
                "a render may call derivePassword {MAX_CALLS} times at most"
            ));
        }
        derive(counter, s(&a[1]), s(&a[2]), s(&a[3]), s(&a[4])).map(Value::str)
    });
}

/// How many times one render may call `derivePassword`.
const MAX_CALLS: u64 = 256;

const SEED: &[u8] = b"com.lyndir.masterpassword";

fn templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn characters(class: u8) -> &'static [u8] {
    match class {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// Sprig's result, its messages for a bad template name included (a string, not an error).
fn derive(
    counter: u32,
    kind: &str,
    password: &str,
    user: &str,
    site: &str,
) -> Result<String, String> {
    let Some(templates) = templates(kind) else {
        return Ok(format!("cannot find password template {kind}"));
    };
    let mut salt = SEED.to_vec();
    salt.extend((user.len() as u32).to_be_bytes());
    salt.extend(user.as_bytes());
    let params = scrypt::Params::new(15, 8, 2, 64).map_err(|e| e.to_string())?;
    let mut key = [0u8; 64];
    scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key)
        .map_err(|e| format!("failed to derive password: {e}"))?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(SEED);
    mac.update(&(site.len() as u32).to_be_bytes());
    mac.update(site.as_bytes());
    mac.update(&counter.to_be_bytes());
    let seed = mac.finalize().into_bytes();
    let template = templates[usize::from(seed[0]) % templates.len()];
    Ok(template
        .bytes()
        .enumerate()
        .map(|(n, class)| {
            let chars = characters(class);
            char::from(chars[usize::from(seed[n + 1]) % chars.len()])
        })
        .collect())
}
