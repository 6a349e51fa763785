//! YAML read into JSON with mapping keys as Helm gets them.
//!
//! Helm reads YAML with go-yaml v2 (YAML 1.1) and converts it to JSON (sigs.k8s.io/yaml), so
//! a plain key is first typed like any scalar, then written as a JSON key: `on:` and `yes:`
//! become `"true"`, `0x10:` `"16"`, `1e3:` `"1000"`, `1e7:` `"1e+07"`, and `~:` is an error.
//! serde_json's own map keys are the scalar's text, so `on:` stayed `"on"` and a chart
//! reading `.Values.true` found nothing. Keys here are read as values, then printed as that
//! conversion prints them; numbers are float64, as after Helm's trip through JSON.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value as Json};

/// A YAML document as JSON, keys converted as Helm converts them.
pub(crate) struct GoJson(pub(crate) Json);

impl<'de> Deserialize<'de> for GoJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<GoJson, D::Error> {
        d.deserialize_any(JsonVisitor).map(GoJson)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    // Numbers are float64 after Helm's trip through JSON (`as_go_json`), made so here
    // rather than by copying the tree again; keys keep the integer (`key_text`).
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Number::from_f64(v as f64).map_or(Json::from(v), Json::Number))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Number::from_f64(v as f64).map_or(Json::from(v), Json::Number))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(Number::from_f64(v).map_or(Json::Null, Json::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        GoJson::deserialize(d).map(|v| v.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(GoJson(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut entries = Map::new();
        while let Some(GoKey(key)) = map.next_key()? {
            let GoJson(value) = map.next_value()?;
            entries.insert(key, value);
        }
        Ok(Json::Object(entries))
    }
}

/// A mapping key, typed as a scalar and then written as sigs.k8s.io/yaml writes it into JSON.
struct GoKey(String);

impl<'de> Deserialize<'de> for GoKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<GoKey, D::Error> {
        d.deserialize_any(KeyVisitor).map(GoKey)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar mapping key")
    }
    fn visit_bool<E>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E>(self, v: f64) -> Result<String, E> {
        Ok(crate::gofmt::format_float(v, 'g', None))
    }
    fn visit_str<E>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_string<E>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Err(E::custom("unsupported map key of type: <nil>"))
    }
    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        Err(E::custom("unsupported map key of type: <nil>"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(de::Error::custom("unsupported map key: a sequence"))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(de::Error::custom("unsupported map key: a mapping"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Json {
        let options = serde_saphyr::options! { legacy_octal_numbers: true };
        serde_saphyr::from_str_with_options::<GoJson>(text, options)
            .unwrap()
            .0
    }

    #[test]
    fn plain_keys_are_typed_then_printed() {
        assert_eq!(
            read(
                "on: 1\n'off': 2\nyes: 3\n10: 5\n0x10: 6\n1.5: 7\nname: 8\n1e3: 9\n2.0: 10\n1e7: 11\n"
            ),
            serde_json::json!({"true": 3.0, "off": 2.0, "10": 5.0, "16": 6.0, "1.5": 7.0, "name": 8.0, "1000": 9.0, "2": 10.0, "1e+07": 11.0})
        );
    }
}
