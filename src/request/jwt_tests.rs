//! Reading the JWT payload Envoy leaves in the stream metadata: both encodings, their limits,
//! and what is no JWT.

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

/// A random JSON value of the kinds a `Struct` carries, nested at most `depth` deep.
fn random_value(rng: &mut u64, depth: usize) -> Value {
    let mut next = || {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        *rng
    };
    let kind = next() % if depth == 0 { 4 } else { 6 };
    match kind {
        0 => Value::Null,
        1 => Value::Bool(next() % 2 == 0),
        2 => json!((next() % 1_000_000) as f64 / 8.0),
        3 => {
            // Lengths across the one-, two- and three-byte varints.
            let len = [0, 1, 127, 128, 300, 16_384][(next() % 6) as usize];
            Value::String("é".repeat(len / 2) + &"x".repeat(len % 2))
        }
        4 => Value::Array((0..next() % 4).map(|_| random_value(rng, depth - 1)).collect()),
        _ => Value::Object(
            (0..next() % 4)
                .map(|i| (format!("k{i}"), random_value(rng, depth - 1)))
                .collect(),
        ),
    }
}

#[test]
fn struct_payloads_decode_to_what_was_encoded() {
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..300 {
        let mut payload = json!({"iss": "https://issuer.example", "sub": format!("user-{i}")});
        payload["claims"] = random_value(&mut rng, 4);
        let md = structure(&json!({ "provider": payload.clone() }));
        assert_eq!(from_metadata(&md), Some(payload), "#{i}");
    }
}

/// `{"a": {"a": ... "leaf"}}`, `n` objects deep.
fn nested(n: usize) -> Value {
    (0..n).fold(json!("leaf"), |v, _| json!({ "a": v }))
}

#[test]
fn nesting_is_bounded_to_the_level() {
    // The provider map and the payload are two levels of the sixteen; each nested object in a
    // Struct is two more (a Value holding a Struct).
    let read = |n: usize| {
        let md = structure(&json!({"p": {"iss": "i", "n": nested(n)}}));
        from_metadata(&md).map(|p| claim(&p, &vec!["n"; 1].into_iter().chain(vec!["a"; n]).collect::<Vec<_>>()).len())
    };
    assert_eq!(read(6), Some(1));
    assert_eq!(read(7), None);
    // Pairs: past the limit a nested map is no longer read as one.
    let pairs_nested = |n: usize| {
        let mut v = b"leaf".to_vec();
        for _ in 0..n {
            v = pairs_enc(&[(b"a", v)]);
        }
        let payload = pairs_enc(&[(b"iss", b"i".to_vec()), (b"n", v)]);
        let p = from_metadata(&pairs_enc(&[(b"p", payload)])).unwrap();
        let path: Vec<&str> = ["n"].into_iter().chain(vec!["a"; n]).collect();
        claim(&p, &path) == ["leaf"]
    };
    assert!(pairs_nested(15));
    assert!(!pairs_nested(16));
}

#[test]
fn struct_fields_of_other_wire_types_are_skipped_or_refused() {
    let payload = structure(&json!({"iss": "i", "sub": "s"}));
    let entry = |value: &[u8]| {
        let mut e = len(1, b"p");
        e.extend(len(2, value));
        len(1, &e)
    };
    // A Value holding a Struct, then fields a newer Envoy might add: a varint (field 7), a
    // fixed32 (field 8), a fixed64 (field 9), all skipped.
    let mut value = len(5, &payload);
    value.extend([7 << 3, 0x96, 0x01]);
    value.extend([(8 << 3) | 5, 1, 2, 3, 4]);
    value.extend([(9 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8]);
    let mut md = entry(&value);
    md.extend([(3 << 3) | 5, 1, 2, 3, 4]);
    md.extend([4 << 3, 1]);
    assert_eq!(from_metadata(&md), Some(json!({"iss": "i", "sub": "s"})));
    // Groups (wire types 3 and 4) and truncated fields are refused.
    for bad in [
        vec![(3 << 3) | 3],
        vec![(3 << 3) | 4],
        vec![(3 << 3) | 5, 1, 2, 3],
        vec![(3 << 3) | 1, 1, 2, 3, 4, 5, 6, 7],
        vec![(1 << 3) | 2, 5, 1],
    ] {
        let mut md = entry(&len(5, &payload));
        md.extend(&bad);
        assert_eq!(from_metadata(&md), None, "{bad:?}");
    }
    // A varint of more than ten bytes is refused; ten are read.
    let mut md = entry(&len(5, &payload));
    md.extend([7 << 3]);
    md.extend([0xff; 9]);
    md.push(0x01);
    assert!(from_metadata(&md).is_some());
    let mut md = entry(&len(5, &payload));
    md.extend([7 << 3]);
    md.extend([0xff; 10]);
    md.push(0x01);
    assert_eq!(from_metadata(&md), None);
}

#[test]
fn claims_read_only_strings() {
    let p = json!({"iss": "i", "sub": "s", "aud": ["a", 1, "b", null], "n": 3, "o": {"x": "y"}});
    assert_eq!(claim(&p, &["aud"]), ["a", "b"]);
    assert!(claim(&p, &["n"]).is_empty());
    assert!(claim(&p, &["o"]).is_empty());
    assert_eq!(claim(&p, &["o", "x"]), ["y"]);
    assert!(claim(&p, &["o", "x", "z"]).is_empty());
    // Only a payload with a string `iss` counts; one payload among other metadata is read.
    let md = structure(&json!({"a": {"iss": 1, "sub": "x"}, "b": {"iss": "j", "sub": "2"}, "c": "x"}));
    assert_eq!(from_metadata(&md), Some(json!({"iss": "j", "sub": "2"})));
    assert_eq!(from_metadata(&structure(&json!({}))), None);
}

#[test]
fn pairs_lists_maps_and_strings_are_told_apart() {
    let list = pairs_enc(&[(b"a", vec![]), (b"b", vec![])]);
    let empty = pairs_enc(&[]);
    let map = pairs_enc(&[(b"k", b"v".to_vec()), (b"e", vec![])]);
    let payload = pairs_enc(&[
        (b"iss", b"i".to_vec()),
        (b"list", list),
        (b"empty", empty),
        (b"map", map),
        (b"bad", vec![0xff, 0xfe]),
    ]);
    let p = from_metadata(&pairs_enc(&[(b"p", payload)])).unwrap();
    assert_eq!(p["list"], json!(["a", "b"]));
    assert_eq!(p["empty"], json!({}));
    assert_eq!(p["map"], json!({"k": "v", "e": ""}));
    assert_eq!(p["bad"], Value::Null);
    // A key that is not UTF-8 makes the map unreadable: no JWT.
    let payload = pairs_enc(&[(b"iss", b"i".to_vec()), (&[0xff], b"x".to_vec())]);
    assert_eq!(from_metadata(&pairs_enc(&[(b"p", payload)])), None);
}

#[test]
fn nesting_is_bounded_at_exactly_sixteen_levels_maps_and_lists_alike() {
    // Struct levels alternate: a Struct at an even depth (the metadata 0, the payload 2), its
    // values at odd ones; a list's items are one level below the list.
    let read = |n: Value| from_metadata(&structure(&json!({"p": {"iss": "i", "n": n}})));
    // An empty map at depth 16 (six objects below `n`, then `{}`) is read; at 18 it is not.
    assert!(read((0..6).fold(json!({}), |v, _| json!({ "a": v }))).is_some());
    assert!(read((0..7).fold(json!({}), |v, _| json!({ "a": v }))).is_none());
    // A list item at depth 16 (six objects below `n`, then a list) is read; at 18 it is not.
    assert!(read((0..6).fold(json!(["x"]), |v, _| json!({ "a": v }))).is_some());
    assert!(read((0..7).fold(json!(["x"]), |v, _| json!({ "a": v }))).is_none());
    // Lists count as levels too: the string in thirteen nested lists is at 16, in fourteen at 17.
    assert!(read((0..13).fold(json!("x"), |v, _| json!([v]))).is_some());
    assert!(read((0..14).fold(json!("x"), |v, _| json!([v]))).is_none());
}
