//! Sprig's keys and certificates — `genPrivateKey`, `genCA`, `genSelfSignedCert`,
//! `genSignedCert`, their `WithKey` forms and `buildCustomCert` — with Sprig's shapes (PEM
//! block types, subject, SANs, key usages, basic constraints, 128-bit serials, RSA 2048 for
//! certificates and 4096 for `genPrivateKey`), drawn from the render's keyed generator
//! ([`crate::randomness`]) so they are the same every render.
//!
//! Validity: Sprig's certificates run from the moment of rendering for `days`. A stable
//! certificate cannot start "now", so plumb's start at the beginning of a rotation window —
//! time cut in windows of half the lifetime (at least an hour) — and end `days` later: a
//! certificate is never rendered expired (at least half its life is left), and it is
//! renewed, with a new key and serial, when its window turns over. Signatures are RSA
//! PKCS#1 v1.5 with SHA-256, deterministic as Go's are; keys other than RSA cannot sign
//! here.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock};

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha256};

use super::Param::{Any, Int, Str};
use super::{Table, i, s};
use crate::der::{self, bits, oid, seq, tlv, uint};
use crate::template::State;
use crate::value::{Object, Value};

pub(super) fn register(t: &mut Table) {
    t.add("genPrivateKey", &[Str], |st, a| private_key(st, s(&a[0])));
    t.add("genCA", &[Str, Int], |st, a| {
        let request = Request::new(&a[0], &Value::Nil, &Value::Nil, &a[1], true)?;
        let key = fresh_key(st, "genCA", &request)?;
        issue(st, "genCA", &request, key, None)
    });
    t.add("genCAWithKey", &[Str, Int, Str], |st, a| {
        let request = Request::new(&a[0], &Value::Nil, &Value::Nil, &a[1], true)?;
        issue(st, "genCAWithKey", &request, given_key(s(&a[2]))?, None)
    });
    t.add("genSelfSignedCert", &[Str, Any, Any, Int], |st, a| {
        let request = Request::new(&a[0], &a[1], &a[2], &a[3], false)?;
        let key = fresh_key(st, "genSelfSignedCert", &request)?;
        issue(st, "genSelfSignedCert", &request, key, None)
    });
    t.add(
        "genSelfSignedCertWithKey",
        &[Str, Any, Any, Int, Str],
        |st, a| {
            let request = Request::new(&a[0], &a[1], &a[2], &a[3], false)?;
            let key = given_key(s(&a[4]))?;
            issue(st, "genSelfSignedCertWithKey", &request, key, None)
        },
    );
    t.add("genSignedCert", &[Str, Any, Any, Int, Any], |st, a| {
        let request = Request::new(&a[0], &a[1], &a[2], &a[3], false)?;
        let ca = Authority::of(&a[4])?;
        let key = fresh_key(st, "genSignedCert", &request)?;
        issue(st, "genSignedCert", &request, key, Some(&ca))
    });
    t.add(
        "genSignedCertWithKey",
        &[Str, Any, Any, Int, Any, Str],
        |st, a| {
            let request = Request::new(&a[0], &a[1], &a[2], &a[3], false)?;
            let ca = Authority::of(&a[4])?;
            let key = given_key(s(&a[5]))?;
            issue(st, "genSignedCertWithKey", &request, key, Some(&ca))
        },
    );
    t.add("buildCustomCert", &[Str, Str], |_, a| {
        custom(s(&a[0]), s(&a[1]))
    });
}

/// Sprig's `certificate`: what `genCA` and its kin return, `.Cert` and `.Key` in PEM.
pub(crate) struct Certificate {
    cert: String,
    key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> &str {
        "sprig.certificate"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::str(self.cert.as_str())),
            "Key" => Some(Value::str(self.key.as_str())),
            _ => None,
        }
    }
    fn display(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }
    fn kind(&self) -> &'static str {
        "struct"
    }
    fn fields(&self) -> Option<Vec<(&'static str, Value)>> {
        Some(vec![
            ("Cert", Value::str(self.cert.as_str())),
            ("Key", Value::str(self.key.as_str())),
        ])
    }
}

fn certificate(cert: String, key: String) -> Value {
    Value::Object(Rc::new(Certificate { cert, key }))
}

/// What a certificate says, from a function's arguments.
struct Request {
    cn: String,
    /// IP addresses as they go in the SAN: 4 bytes for IPv4, 16 for IPv6.
    ips: Vec<Vec<u8>>,
    dns: Vec<String>,
    not_before: i64,
    not_after: i64,
    is_ca: bool,
}

impl Request {
    fn new(
        cn: &Value,
        ips: &Value,
        dns: &Value,
        days: &Value,
        is_ca: bool,
    ) -> Result<Self, String> {
        let ips = strings(ips, |v| format!("error parsing ip: {v} is not a string"))?
            .into_iter()
            .map(|text| match text.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(v4)) => Ok(v4.octets().to_vec()),
                Ok(std::net::IpAddr::V6(v6)) => Ok(v6
                    .to_ipv4_mapped()
                    .map_or_else(|| v6.octets().to_vec(), |v4| v4.octets().to_vec())),
                Err(_) => Err(format!("error parsing ip: {text}")),
            })
            .collect::<Result<_, _>>()?;
        let dns = strings(dns, |v| {
            format!("error processing alternate dns name: {v} is not a string")
        })?;
        let days = i(days);
        let (not_before, not_after) = validity(now(), days);
        Ok(Request {
            cn: s(cn).to_owned(),
            ips,
            dns,
            not_before,
            not_after,
            is_ca,
        })
    }

    /// Names the draws of this certificate: same arguments and window, same key and serial.
    fn label(&self, function: &str) -> String {
        format!(
            "{function}\0{}\0{:?}\0{:?}\0{}\0{}",
            self.cn, self.ips, self.dns, self.not_before, self.not_after
        )
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A certificate valid for `days` that is stable within its rotation window: it starts at
/// the beginning of the window holding `now` (windows of half the lifetime, at least an
/// hour) and ends `days` later.
pub(crate) fn validity(now: i64, days: i64) -> (i64, i64) {
    let lifetime = days.saturating_mul(86_400);
    let window = (lifetime / 2).max(3_600);
    let start = now.div_euclid(window) * window;
    (start, start.saturating_add(lifetime))
}

/// Go's `[]interface{}` of strings: a list (or nil) whose items must all be strings.
fn strings(v: &Value, not_string: impl Fn(String) -> String) -> Result<Vec<String>, String> {
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::List(list) => list
            .borrow()
            .iter()
            .map(|item| match item {
                Value::String(text) => Ok(text.to_string()),
                other => Err(not_string(crate::gofmt::print_value(other))),
            })
            .collect(),
        other => Err(format!(
            "wrong type for value; expected []interface {{}}; got {}",
            other.type_name()
        )),
    }
}

/// The signing half of a CA certificate: its subject, key identifier and key.
struct Authority {
    subject: Vec<u8>,
    key_id: Option<Vec<u8>>,
    key: Arc<RsaPrivateKey>,
}

impl Authority {
    fn of(v: &Value) -> Result<Authority, String> {
        let field = |name: &str| match v {
            Value::Object(object) if object.type_name() == "sprig.certificate" => {
                object.field(name)
            }
            _ => None,
        };
        let (Some(cert), Some(key)) = (field("Cert"), field("Key")) else {
            return Err(format!(
                "wrong type for value; expected sprig.certificate; got {}",
                v.type_name()
            ));
        };
        let cert = cert.as_str().unwrap_or_default();
        let Some((_, der)) = der::unpem(cert) else {
            return Err("unable to decode certificate".into());
        };
        let (subject, key_id) = subject_and_key_id(&der).ok_or_else(|| {
            "error parsing certificate: decodedSignerCert.Bytes: malformed certificate".to_owned()
        })?;
        let key = given_key(key.as_str().unwrap_or_default())
            .map_err(|e| format!("error parsing private key: {e}"))?;
        Ok(Authority {
            subject,
            key_id,
            key,
        })
    }
}

/// A certificate's subject (as encoded) and its subject key identifier, if it has one.
fn subject_and_key_id(cert: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let outer = der::read(cert)?;
    let parts = der::children(outer.contents)?;
    let tbs = der::children(parts.first()?.contents)?;
    // [0] version, serial, signature, issuer, validity, subject, key, [3] extensions
    let offset = usize::from(tbs.first()?.tag == 0xa0);
    let subject = tbs.get(offset + 4)?.whole.to_vec();
    let key_id = tbs
        .iter()
        .find(|e| e.tag == 0xa3)
        .and_then(|e| der::children(der::read(e.contents)?.contents))
        .and_then(|extensions| {
            extensions.iter().find_map(|ext| {
                let fields = der::children(ext.contents)?;
                if fields.first()?.contents != OID_SKI {
                    return None;
                }
                let value = der::read(fields.last()?.contents)?;
                Some(value.contents.to_vec())
            })
        });
    Some((subject, key_id))
}

/// A key from a PEM string, as Sprig's `parsePrivateKeyPEM` reads it; only RSA keys sign.
fn given_key(text: &str) -> Result<Arc<RsaPrivateKey>, String> {
    let Some((label, der)) = der::unpem(text) else {
        return Err("parsing private key: no PEM data in input".into());
    };
    let key = match label.as_str() {
        "RSA PRIVATE KEY" => RsaPrivateKey::from_pkcs1_der(&der)
            .map_err(|e| format!("parsing RSA private key from PEM: {e}"))?,
        "PRIVATE KEY" => RsaPrivateKey::from_pkcs8_der(&der).map_err(|_| {
            "plumb signs certificates with RSA keys only (this PKCS#8 key is not RSA)".to_owned()
        })?,
        "EC PRIVATE KEY" | "DSA PRIVATE KEY" => {
            return Err(format!(
                "plumb signs certificates with RSA keys only, not an {label}: ECDSA and DSA \
                 signatures need a random number that would change every render"
            ));
        }
        other => return Err(format!("invalid private key type {other}")),
    };
    Ok(Arc::new(key))
}

/// The RSA 2048 key of a certificate, drawn for this call.
fn fresh_key(
    st: &mut State<'_>,
    function: &str,
    request: &Request,
) -> Result<Arc<RsaPrivateKey>, String> {
    let mut rng = super::random::stream(st, &request.label(function));
    rsa_key(&mut rng, 2048)
}

/// Most keys kept in memory: generating one takes a good part of a second, and a render
/// draws the same keys again.
const KEPT_KEYS: usize = 1_024;

/// Generated keys by (seed, bits).
type KeptKeys = HashMap<([u8; 32], usize), Arc<RsaPrivateKey>>;

/// The RSA key of `bits` for the seed drawn from `rng`, generated once per process.
fn rsa_key(rng: &mut ChaCha20Rng, bits: usize) -> Result<Arc<RsaPrivateKey>, String> {
    static KEYS: OnceLock<Mutex<KeptKeys>> = OnceLock::new();
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    let keys = KEYS.get_or_init(Mutex::default);
    if let Some(key) = keys.lock().ok().and_then(|k| k.get(&(seed, bits)).cloned()) {
        return Ok(key);
    }
    let key = Arc::new(
        RsaPrivateKey::new(&mut ChaCha20Rng::from_seed(seed), bits)
            .map_err(|e| format!("error generating rsa key: {e}"))?,
    );
    if let Ok(mut keys) = keys.lock() {
        if keys.len() >= KEPT_KEYS {
            keys.clear();
        }
        keys.insert((seed, bits), Arc::clone(&key));
    }
    Ok(key)
}

fn private_key(st: &mut State<'_>, kind: &str) -> Result<Value, String> {
    let mut rng = super::random::stream(st, &format!("genPrivateKey\0{kind}"));
    let text = match kind {
        "" | "rsa" => pem_key(rsa_key(&mut rng, 4096)?.as_ref())?,
        "ed25519" => {
            let mut seed = [0u8; 32];
            rng.fill_bytes(&mut seed);
            // PKCS#8 as Go writes an Ed25519 key: version 0, the algorithm, the seed.
            let algorithm = seq(&[&oid(&[0x2b, 0x65, 0x70])]);
            der::pem(
                "PRIVATE KEY",
                &seq(&[&uint(&[0]), &algorithm, &tlv(0x04, &tlv(0x04, &seed))]),
            )
        }
        "ecdsa" | "dsa" => {
            return Err(format!(
                "plumb does not generate {kind} keys: use \"rsa\" or \"ed25519\", or set the \
                 key in the chart's values"
            ));
        }
        other => format!("Unknown type {other}"),
    };
    Ok(Value::str(text))
}

fn pem_key(key: &RsaPrivateKey) -> Result<String, String> {
    let der = key
        .to_pkcs1_der()
        .map_err(|e| format!("error pem-encoding key: {e}"))?;
    Ok(der::pem("RSA PRIVATE KEY", der.as_bytes()))
}

const OID_SKI: &[u8] = &[0x55, 0x1d, 0x0e];
const SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// The DigestInfo that precedes a SHA-256 hash in a PKCS#1 v1.5 signature.
const SHA256_DIGEST_INFO: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// A certificate for `request` and `key`, signed by `ca` (or by itself), laid out as Go's
/// `x509.CreateCertificate` lays out Sprig's template.
fn issue(
    st: &mut State<'_>,
    function: &str,
    request: &Request,
    key: Arc<RsaPrivateKey>,
    ca: Option<&Authority>,
) -> Result<Value, String> {
    let mut rng = super::random::stream(st, &format!("{}\0serial", request.label(function)));
    let mut serial = [0u8; 16];
    rng.fill_bytes(&mut serial);
    let public = key
        .to_public_key()
        .to_pkcs1_der()
        .map_err(|e| format!("error creating certificate: {e}"))?;
    let public = public.as_bytes();
    let subject = name(&request.cn);
    let (issuer, issuer_key_id, signer) = match ca {
        Some(ca) => (ca.subject.clone(), ca.key_id.clone(), Arc::clone(&ca.key)),
        None => (subject.clone(), None, Arc::clone(&key)),
    };
    let algorithm = seq(&[&oid(SHA256_WITH_RSA), &[0x05, 0x00]]);
    let tbs = seq(&[
        &[0xa0, 0x03, 0x02, 0x01, 0x02],
        &uint(&serial),
        &algorithm,
        &issuer,
        &seq(&[
            &der::time(request.not_before),
            &der::time(request.not_after),
        ]),
        &subject,
        &seq(&[&seq(&[&oid(RSA_ENCRYPTION), &[0x05, 0x00]]), &bits(public)]),
        &tlv(
            0xa3,
            &extensions(request, public, &subject, &issuer, issuer_key_id),
        ),
    ]);
    let mut digest_info = SHA256_DIGEST_INFO.to_vec();
    digest_info.extend(Sha256::digest(&tbs));
    let signature = signer
        .sign_with_rng(&mut rng, Pkcs1v15Sign::new_unprefixed(), &digest_info)
        .map_err(|e| format!("error creating certificate: {e}"))?;
    let cert = seq(&[&tbs, &algorithm, &bits(&signature)]);
    Ok(certificate(der::pem("CERTIFICATE", &cert), pem_key(&key)?))
}

/// Go's `pkix.Name` with only a common name: PrintableString when it can be, else UTF8String.
fn name(cn: &str) -> Vec<u8> {
    if cn.is_empty() {
        return seq(&[]);
    }
    let printable = cn
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b));
    let value = tlv(if printable { 0x13 } else { 0x0c }, cn.as_bytes());
    seq(&[&tlv(0x31, &seq(&[&oid(&[0x55, 0x04, 0x03]), &value]))])
}

/// Sprig's extensions, in the order Go writes them.
fn extensions(
    request: &Request,
    public: &[u8],
    subject: &[u8],
    issuer: &[u8],
    issuer_key_id: Option<Vec<u8>>,
) -> Vec<u8> {
    let extension = |id: &[u8], critical: bool, value: Vec<u8>| {
        let flag: &[u8] = if critical { &[0x01, 0x01, 0xff] } else { &[] };
        seq(&[&oid(id), flag, &tlv(0x04, &value)])
    };
    // digitalSignature | keyEncipherment (| keyCertSign), as a BIT STRING without its
    // trailing zero bits.
    let usage: u8 = if request.is_ca { 0xa4 } else { 0xa0 };
    let mut all = vec![
        extension(
            &[0x55, 0x1d, 0x0f],
            true,
            tlv(0x03, &[usage.trailing_zeros() as u8, usage]),
        ),
        // serverAuth, clientAuth
        extension(
            &[0x55, 0x1d, 0x25],
            false,
            seq(&[
                &oid(&[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01]),
                &oid(&[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02]),
            ]),
        ),
        extension(
            &[0x55, 0x1d, 0x13],
            true,
            if request.is_ca {
                seq(&[&[0x01, 0x01, 0xff]])
            } else {
                seq(&[])
            },
        ),
    ];
    if request.is_ca {
        // Go's key identifier: the first 160 bits of SHA-256 of the public key.
        all.push(extension(
            OID_SKI,
            false,
            tlv(0x04, &Sha256::digest(public)[..20]),
        ));
    }
    if let Some(id) = issuer_key_id.filter(|_| issuer != subject) {
        all.push(extension(
            &[0x55, 0x1d, 0x23],
            false,
            seq(&[&tlv(0x80, &id)]),
        ));
    }
    if !request.dns.is_empty() || !request.ips.is_empty() {
        let names: Vec<Vec<u8>> = request
            .dns
            .iter()
            .map(|d| tlv(0x82, d.as_bytes()))
            .chain(request.ips.iter().map(|ip| tlv(0x87, ip)))
            .collect();
        let critical = subject == seq(&[]).as_slice();
        all.push(extension(
            &[0x55, 0x1d, 0x11],
            critical,
            tlv(0x30, &names.concat()),
        ));
    }
    seq(&[&all.concat()])
}

/// `buildCustomCert`: a certificate and key given in base64, checked and returned as is.
fn custom(b64cert: &str, b64key: &str) -> Result<Value, String> {
    use base64::Engine as _;
    let decode = |text: &str| base64::engine::general_purpose::STANDARD.decode(text);
    let cert = decode(b64cert).map_err(|_| "unable to decode base64 certificate".to_owned())?;
    let key = decode(b64key).map_err(|_| "unable to decode base64 private key".to_owned())?;
    let cert = String::from_utf8_lossy(&cert).into_owned();
    let key = String::from_utf8_lossy(&key).into_owned();
    let Some((_, der)) = der::unpem(&cert) else {
        return Err("unable to decode certificate".into());
    };
    if subject_and_key_id(&der).is_none() {
        return Err("error parsing certificate: decodedCert.Bytes: malformed certificate".into());
    }
    match der::unpem(&key) {
        Some((label, _)) if label.ends_with("PRIVATE KEY") => Ok(certificate(cert, key)),
        Some((label, _)) => Err(format!(
            "error parsing private key: no private key data in PEM block of type {label}"
        )),
        None => Err("error parsing private key: no PEM data in input".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_never_rendered_expired_and_keeps_half_its_life() {
        let day = 86_400;
        for now in [0, 1_800_000_000, 1_800_000_000 + 12_345] {
            for days in [1, 30, 365, 3650] {
                let (start, end) = validity(now, days);
                assert!(start <= now && now < end);
                assert!(end - now >= days * day / 2, "{days} days at {now}");
                assert_eq!(end - start, days * day);
                assert_eq!(validity(start, days), (start, end), "stable in its window");
            }
        }
        let (start, _) = validity(1_800_000_000, 0);
        assert_eq!(start % 3_600, 0, "windows are an hour at least");
    }

    #[test]
    fn names_are_printable_strings_when_they_can_be() {
        assert_eq!(
            name("a")[6..],
            [0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x01, b'a']
        );
        assert_eq!(name("*.a")[11], 0x0c);
        assert_eq!(name(""), [0x30, 0x00]);
    }
}
