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
    let mut w = Wire { b: bytes };
    while !w.b.is_empty() {
        let (n, f) = w.field()?;
        let (1, Field::Bytes(entry)) = (n, f) else { continue };
        let (mut key, mut value) = (None, Value::Null);
        let mut e = Wire { b: entry };
        while !e.b.is_empty() {
            match e.field()? {
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
    let mut w = Wire { b: bytes };
    while !w.b.is_empty() {
        out = match w.field()? {
            (1, _) => Value::Null,
            (2, Field::Fixed64(bits)) => {
                serde_json::Number::from_f64(f64::from_bits(bits)).map_or(Value::Null, Value::Number)
            }
            (3, Field::Bytes(s)) => Value::String(std::str::from_utf8(s).ok()?.to_string()),
            (4, Field::Varint(b)) => Value::Bool(b != 0),
            (5, Field::Bytes(s)) => decode_struct(s, depth + 1)?,
            (6, Field::Bytes(l)) => {
                let mut items = Vec::new();
                let mut lw = Wire { b: l };
                while !lw.b.is_empty() {
                    if let (1, Field::Bytes(v)) = lw.field()? {
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
mod tests {
    use super::*;
    use serde_json::json;

    // A minimal encoder, to build what Envoy sends.
    fn len(field: u64, body: &[u8]) -> Vec<u8> {
        let mut out = vec![((field << 3) | 2) as u8];
        let mut n = body.len();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            out.push(if n == 0 { b } else { b | 0x80 });
            if n == 0 {
                break;
            }
        }
        out.extend_from_slice(body);
        out
    }

    fn value(v: &Value) -> Vec<u8> {
        match v {
            Value::Null => vec![1 << 3, 0],
            Value::Bool(b) => vec![4 << 3, u8::from(*b)],
            Value::Number(n) => {
                let mut o = vec![(2 << 3) | 1];
                o.extend_from_slice(&n.as_f64().unwrap().to_le_bytes());
                o
            }
            Value::String(s) => len(3, s.as_bytes()),
            Value::Array(items) => len(6, &items.iter().flat_map(|i| len(1, &value(i))).collect::<Vec<_>>()),
            Value::Object(_) => len(5, &structure(v)),
        }
    }

    fn structure(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, v) in v.as_object().unwrap() {
            let mut entry = len(1, k.as_bytes());
            entry.extend(len(2, &value(v)));
            out.extend(len(1, &entry));
        }
        out
    }

    #[test]
    fn decodes_jwt_authn_metadata_keyed_by_provider_or_issuer() {
        let payload = json!({"iss": "https://issuer.example", "sub": "user-1", "aud": ["api", "web"],
                             "exp": 1.9e9, "admin": true, "groups": ["eng", "ops"],
                             "nested": {"team": {"name": "payments"}}});
        for key in ["payload", "https://issuer.example"] {
            let md = structure(&json!({ key: payload.clone() }));
            assert_eq!(from_metadata(&md), Some(payload.clone()));
        }
        let p = from_metadata(&structure(&json!({"payload": payload}))).unwrap();
        assert_eq!(claim(&p, &["sub"]), ["user-1"]);
        assert_eq!(claim(&p, &["aud"]), ["api", "web"]);
        assert_eq!(claim(&p, &["nested", "team", "name"]), ["payments"]);
        assert!(claim(&p, &["admin"]).is_empty());
        assert!(claim(&p, &["missing", "x"]).is_empty());
    }

    /// Envoy 1.40's pairs encoding, as in `get_property`.
    fn pairs_enc(entries: &[(&[u8], Vec<u8>)]) -> Vec<u8> {
        let refs: Vec<(&[u8], &[u8])> = entries.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        pairs::encode(&refs)
    }

    #[test]
    fn decodes_envoy_pairs_with_nested_maps_and_lists() {
        let list = pairs_enc(&[(b"eng", vec![]), (b"admin", vec![])]);
        let team = pairs_enc(&[(b"team", b"payments".to_vec())]);
        let payload = pairs_enc(&[
            (b"groups", list),
            (b"exp", 1.9e9f64.to_le_bytes().to_vec()),
            (b"org", team),
            (b"sub", b"alice".to_vec()),
            (b"aud", b"reports".to_vec()),
            (b"iss", b"https://issuer.example".to_vec()),
        ]);
        let md = pairs_enc(&[(b"https://issuer.example", payload)]);
        let p = from_metadata(&md).unwrap();
        assert_eq!(claim(&p, &["iss"]), ["https://issuer.example"]);
        assert_eq!(claim(&p, &["groups"]), ["eng", "admin"]);
        assert_eq!(claim(&p, &["org", "team"]), ["payments"]);
        assert_eq!(claim(&p, &["aud"]), ["reports"]);
    }

    #[test]
    fn no_payload_or_garbage_is_no_jwt() {
        assert_eq!(from_metadata(&pairs_enc(&[(b"p", b"x".to_vec())])), None);
        assert_eq!(from_metadata(&[1, 0, 0, 0, 200, 0, 0, 0]), None);
        assert_eq!(from_metadata(&[]), None);
        assert_eq!(from_metadata(&structure(&json!({"payload": {"sub": "x"}}))), None);
        assert_eq!(from_metadata(&[0x0a, 0xff, 0xff]), None);
        let two = structure(&json!({"a": {"iss": "i", "sub": "1"}, "b": {"iss": "j", "sub": "2"}}));
        assert_eq!(from_metadata(&two), None, "two validated tokens: ambiguous");
        // Deep nesting is refused rather than recursed into.
        let mut deep = json!("x");
        for _ in 0..40 {
            deep = json!({ "a": deep });
        }
        assert_eq!(from_metadata(&structure(&json!({"p": {"iss": "i", "d": deep}}))), None);
    }
}
