//! The validated JWT of a request, as Envoy's `jwt_authn` filter leaves it: its payload in the
//! stream's dynamic metadata (`filter_metadata["envoy.filters.http.jwt_authn"]`, under the
//! provider's `payload_in_metadata` key; Istio uses the issuer as that key). The filter reads
//! that metadata as one `google.protobuf.Struct` (what Envoy's `get_property` returns for a
//! map) and [`from_metadata`] turns it into the payload. Only `jwt_authn` writes there, and only
//! after verifying the token's signature, issuer and expiry, so a client cannot forge it.
//!
//! How Envoy serializes a map for `get_property` depends on its version: Envoy 1.40 writes
//! Proxy-Wasm *pairs* (`u32 count`, `u32 key length, u32 value length` per entry, then each key
//! and value NUL-terminated), recursively for nested maps, lists as pairs whose values are
//! empty, strings as their bytes, numbers as 8-byte doubles; older Envoys write the bytes of a
//! `google.protobuf.Struct`. Both are read; the pairs form carries no types, so a nested value
//! is taken as a list if it parses as pairs with every value empty, as a map if it parses as
//! pairs, else as a string (numbers and booleans are not compared by any JWT rule).
//!
//! What Istio's `requestPrincipals` and `request.auth.*` read, from the payload:
//! `principal` = `iss` and `sub` (see `model::RequestPrincipals`), `audiences` = `aud` (a string or a list), `presenter` = `azp`,
//! `claims[a][b]` = a (nested) claim that is a string or a list of strings.

use serde_json::{Map, Value};

use super::pairs;

/// Nesting deeper than this is refused (a JWT payload is shallow; this bounds recursion).
const MAX_DEPTH: usize = 16;

/// The payload of the validated JWT in `jwt_authn`'s metadata (the bytes of a
/// `google.protobuf.Struct`), or `None` if there is none or it cannot be read: the request
/// then has no JWT, so no JWT rule can grant it anything.
pub fn from_metadata(bytes: &[u8]) -> Option<Value> {
    let Value::Object(providers) = metadata_map(bytes)? else {
        return None;
    };
    // `payload_in_metadata: <key>` nests the payload under the key; take the one that is a
    // payload (has `iss`). Several would mean several validated tokens: refuse to guess.
    let mut payloads = providers
        .into_iter()
        .map(|(_, v)| v)
        .filter(|v| v.get("iss").is_some_and(Value::is_string));
    match (payloads.next(), payloads.next()) {
        (Some(p), None) => Some(p),
        _ => None,
    }
}

/// A filter's dynamic metadata (a map property: Proxy-Wasm pairs or a `google.protobuf.Struct`)
/// as JSON; `None` if it cannot be read.
pub fn metadata_map(bytes: &[u8]) -> Option<Value> {
    match pairs::decode(bytes) {
        Some(entries) => pairs_object(&entries, 0),
        None => decode_struct(bytes, 0),
    }
}

/// The string values of a claim at `path` (a string: itself; a list: its string elements;
/// anything else: none). `aud` and `azp` are claims too.
pub fn claim<'a>(payload: &'a Value, path: &[impl AsRef<str>]) -> Vec<&'a str> {
    let mut v = payload;
    for p in path {
        match v.get(p.as_ref()) {
            Some(next) => v = next,
            None => return Vec::new(),
        }
    }
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

// --- Proxy-Wasm pairs (Envoy 1.40's serialization of a map; see `pairs.rs`) -------------------

fn pairs_object(entries: &[(&[u8], &[u8])], depth: usize) -> Option<Value> {
    let mut out = Map::new();
    for (k, v) in entries {
        out.insert(std::str::from_utf8(k).ok()?.to_string(), pairs_value(v, depth + 1));
    }
    Some(Value::Object(out))
}

fn pairs_value(bytes: &[u8], depth: usize) -> Value {
    if depth <= MAX_DEPTH {
        if let Some(entries) = pairs::decode(bytes) {
            if !entries.is_empty() && entries.iter().all(|(_, v)| v.is_empty()) {
                let items = entries.iter().filter_map(|(k, _)| std::str::from_utf8(k).ok());
                return Value::Array(items.map(|s| Value::String(s.to_string())).collect());
            }
            if let Some(obj) = pairs_object(&entries, depth) {
                return obj;
            }
        }
    }
    std::str::from_utf8(bytes).map_or(Value::Null, |s| Value::String(s.to_string()))
}

// --- protobuf wire format: Struct, Value, ListValue (google/protobuf/struct.proto) ----------

struct Wire<'a> {
    b: &'a [u8],
}

impl<'a> Wire<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut out = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.b.split_first()?;
            self.b = rest;
            out |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(out);
            }
        }
        None
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.b.len() {
            return None;
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Some(head)
    }

    /// The next field: (number, wire type, payload for length-delimited, value for varint and
    /// fixed64).
    fn field(&mut self) -> Option<(u64, Field<'a>)> {
        let key = self.varint()?;
        let f = match key & 7 {
            0 => Field::Varint(self.varint()?),
            1 => Field::Fixed64(u64::from_le_bytes(self.take(8)?.try_into().ok()?)),
            2 => {
                let n = usize::try_from(self.varint()?).ok()?;
                Field::Bytes(self.take(n)?)
            }
            5 => {
                self.take(4)?;
                Field::Other
            }
            _ => return None,
        };
        Some((key >> 3, f))
    }
}

/// The fields of a message, each `None` if malformed. Each field takes at least one byte, so
/// [`fields`] yields at most as many as the message has bytes: decoding ends with its
/// input even if a read were to stop consuming it.
impl<'a> Iterator for Wire<'a> {
    type Item = Option<(u64, Field<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        (!self.b.is_empty()).then(|| self.field())
    }
}

fn fields(b: &[u8]) -> std::iter::Take<Wire<'_>> {
    Wire { b }.take(b.len())
}

enum Field<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Other,
}

fn decode_struct(bytes: &[u8], depth: usize) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut out = Map::new();
    for field in fields(bytes) {
        let (1, Field::Bytes(entry)) = field? else { continue };
        let (mut key, mut value) = (None, Value::Null);
        for field in fields(entry) {
            match field? {
                (1, Field::Bytes(k)) => key = Some(std::str::from_utf8(k).ok()?.to_string()),
                (2, Field::Bytes(v)) => value = decode_value(v, depth + 1)?,
                _ => {}
            }
        }
        out.insert(key?, value);
    }
    Some(Value::Object(out))
}

fn decode_value(bytes: &[u8], depth: usize) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut out = Value::Null;
    for field in fields(bytes) {
        out = match field? {
            (1, _) => Value::Null,
            (2, Field::Fixed64(bits)) => {
                serde_json::Number::from_f64(f64::from_bits(bits)).map_or(Value::Null, Value::Number)
            }
            (3, Field::Bytes(s)) => Value::String(std::str::from_utf8(s).ok()?.to_string()),
            (4, Field::Varint(b)) => Value::Bool(b != 0),
            (5, Field::Bytes(s)) => decode_struct(s, depth + 1)?,
            (6, Field::Bytes(l)) => {
                let mut items = Vec::new();
                for field in fields(l) {
                    if let (1, Field::Bytes(v)) = field? {
                        items.push(decode_value(v, depth + 1)?);
                    }
                }
                Value::Array(items)
            }
            _ => out,
        };
    }
    Some(out)
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
