//! `policies/bundle.schema.json` (the JSON Schema editors use) agrees with the engine: every
//! bundle under `policies/` validates against it, it refuses what the engine refuses, and it
//! names exactly the envelope fields the engine knows (read from the engine's own "unknown
//! field, expected one of ..." errors, so a field added to `src/bundle.rs` without the schema
//! fails here).
//!
//! The validator is the small subset of JSON Schema 2020-12 the schema uses; any other keyword
//! fails the test, so the schema cannot silently use something unchecked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use spiffe_authz::{Engine, Workload};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn schema() -> Value {
    let text = std::fs::read_to_string(root().join("policies/bundle.schema.json")).expect("schema");
    serde_json::from_str(&text).expect("schema is JSON")
}

/// Errors as `path: message`; empty = valid.
fn validate(schema: &Value, root_schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
    let Some(obj) = schema.as_object() else {
        panic!("{at}: schema is not an object")
    };
    for (k, s) in obj {
        match k.as_str() {
            "$schema" | "title" | "description" | "$defs" => {}
            "$ref" => {
                let name = s.as_str().and_then(|r| r.strip_prefix("#/$defs/")).expect("local $ref");
                validate(&root_schema["$defs"][name], root_schema, v, at, errs);
            }
            "type" => {
                let types: Vec<&str> = match s {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => panic!("bad type"),
                };
                let ok = types.iter().any(|t| match *t {
                    "object" => v.is_object(),
                    "array" => v.is_array(),
                    "string" => v.is_string(),
                    "integer" => v.is_u64() || v.is_i64(),
                    "number" => v.is_number(),
                    "boolean" => v.is_boolean(),
                    "null" => v.is_null(),
                    other => panic!("unknown type {other}"),
                });
                if !ok {
                    errs.push(format!("{at}: expected {types:?}, got {v}"));
                }
            }
            "enum" => {
                if !s.as_array().expect("enum").contains(v) {
                    errs.push(format!("{at}: {v} is not one of {s}"));
                }
            }
            "const" => {
                if s != v {
                    errs.push(format!("{at}: {v} is not {s}"));
                }
            }
            "minimum" | "maximum" => {
                if let (Some(n), Some(b)) = (v.as_f64(), s.as_f64()) {
                    if (k == "minimum" && n < b) || (k == "maximum" && n > b) {
                        errs.push(format!("{at}: {n} violates {k} {b}"));
                    }
                }
            }
            "minLength" => {
                if v.as_str()
                    .is_some_and(|t| (t.chars().count() as u64) < s.as_u64().unwrap_or(0))
                {
                    errs.push(format!("{at}: shorter than {s}"));
                }
            }
            "required" => {
                for r in s.as_array().expect("required").iter().filter_map(Value::as_str) {
                    if v.as_object().is_some_and(|o| !o.contains_key(r)) {
                        errs.push(format!("{at}: {r} is required"));
                    }
                }
            }
            "properties" => {
                for (name, o) in v.as_object().into_iter().flatten() {
                    if let Some(ps) = s.get(name) {
                        validate(ps, root_schema, o, &format!("{at}.{name}"), errs);
                    }
                }
            }
            "additionalProperties" => {
                let known = obj.get("properties").and_then(Value::as_object);
                for (name, o) in v.as_object().into_iter().flatten() {
                    if known.is_some_and(|k| k.contains_key(name)) {
                        continue;
                    }
                    match s {
                        Value::Bool(false) => errs.push(format!("{at}: unknown field {name}")),
                        Value::Bool(true) => {}
                        sub => validate(sub, root_schema, o, &format!("{at}.{name}"), errs),
                    }
                }
            }
            "items" => {
                for (i, item) in v.as_array().into_iter().flatten().enumerate() {
                    validate(s, root_schema, item, &format!("{at}[{i}]"), errs);
                }
            }
            "anyOf" => {
                let alts = s.as_array().expect("anyOf");
                let ok = alts.iter().any(|alt| {
                    let mut e = Vec::new();
                    validate(alt, root_schema, v, at, &mut e);
                    e.is_empty()
                });
                if !ok {
                    errs.push(format!("{at}: matches no alternative of anyOf"));
                }
            }
            other => panic!("the test validator does not support keyword {other:?} (at {at})"),
        }
    }
}

fn errors(v: &Value) -> Vec<String> {
    let s = schema();
    let mut errs = Vec::new();
    validate(&s, &s, v, "$", &mut errs);
    errs
}

fn bundles(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut es: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("e").path())
        .collect();
    es.sort();
    for p in es {
        let s = p.to_string_lossy().to_string();
        if p.is_dir() {
            bundles(&p, out);
        } else if s.ends_with(".json") && !s.ends_with(".cases.json") && !s.ends_with(".schema.json") {
            out.push(p);
        }
    }
}

#[test]
fn every_policy_bundle_validates_against_the_schema() {
    let mut files = Vec::new();
    bundles(&root().join("policies"), &mut files);
    assert!(files.len() > 3);
    let mut failures = Vec::new();
    for f in &files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(f).expect("read")).expect("json");
        for e in errors(&v) {
            failures.push(format!("{}: {e}", f.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_schema_refuses_what_the_engine_refuses() {
    let ap = json!({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {"name": "a"}});
    for bad in [
        json!({"settings": {"mode": "audit"}}),
        json!({"workload": {"ports": {"http": 70000}}}),
        json!({"resources": [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}]}),
        json!({"resources": [{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {}}]}),
        json!({"resources": [ap.clone()], "extra": 1}),
    ] {
        assert!(!errors(&bad).is_empty(), "schema accepted {bad}");
        assert!(
            Engine::from_json(bad.to_string().as_bytes(), &Workload::default()).is_err(),
            "engine accepted {bad}"
        );
    }
    let good = json!({"settings": {"mode": "dry-run", "path": {"maxLength": 100}}, "resources": [ap]});
    assert_eq!(errors(&good), Vec::<String>::new());
}

/// The field names serde lists in `unknown field `zz`, expected one of `a`, `b``.
fn engine_fields(bundle: Value) -> BTreeSet<String> {
    let e = Engine::from_json(bundle.to_string().as_bytes(), &Workload::default())
        .expect_err("unknown field refused")
        .to_string();
    let list = e
        .split("expected one of ")
        .nth(1)
        .or_else(|| e.split("expected ").nth(1));
    list.unwrap_or_else(|| panic!("no field list in {e}"))
        .split(',')
        .filter_map(|f| f.trim().strip_prefix('`')?.split('`').next().map(String::from))
        .filter(|f| !f.is_empty())
        .collect()
}

fn schema_fields(def: &str) -> BTreeSet<String> {
    let s = schema();
    let props = if def.is_empty() {
        &s["properties"]
    } else {
        &s["$defs"][def]["properties"]
    };
    props.as_object().expect("properties").keys().cloned().collect()
}

#[test]
fn the_schema_names_exactly_the_engines_envelope_fields() {
    let zz = json!({"zz": 1});
    for (def, bundle) in [
        ("", json!({"zz": 1})),
        ("workload", json!({"workload": zz})),
        ("settings", json!({"settings": zz})),
        ("linkerd", json!({"settings": {"linkerd": zz}})),
        ("path", json!({"settings": {"path": zz}})),
        ("dapr", json!({"settings": {"dapr": zz}})),
    ] {
        let mut engine = engine_fields(bundle);
        // Test-only (`--features fault-injection`): deliberately not offered to editors.
        engine.remove("testing");
        assert_eq!(schema_fields(def), engine, "schema $defs/{def} vs the engine");
    }
}
