//! `spiffe-authz bundle`: Kubernetes manifests → the JSON bundle the filter loads.
//!
//! Resources are kept in their owners' formats (only server bookkeeping is dropped); the bundle
//! is compiled by the same engine as the filter before it is written, so a bundle this command
//! writes is one the filter accepts.

use std::io::Read;
use std::process::ExitCode;

use serde_json::{json, Map, Value};
use spiffe_authz::{BundleError, Engine, Workload};

use crate::flags::{pairs, Flags, Spec};
use crate::manifests::{self, Object};

pub const HELP: &str = "\
usage: spiffe-authz bundle [-f MANIFEST.yaml]... [workload options] [--settings FILE] [-o BUNDLE.json]

Reads Kubernetes YAML manifests (several documents per file, `kind: List`; `-f -` or no -f:
standard input) and writes the bundle JSON (standard output without -o). The bundle is
compiled before it is written: an object of another kind, or an invalid policy, is refused
with its file, document and field.

workload options (the workload the filter protects; left out, the filter reads them from
Istio's node metadata):
  --workload-namespace NS   --workload-service-account SA   --workload-label k=v (repeatable)
  --workload-port name=N (repeatable; named container ports, for Linkerd Servers)
  --app-id ID (Dapr)        --trust-domain TD
  --settings FILE           the bundle's `settings` object (JSON or YAML)";

const SPECS: &[Spec] = &[
    Spec {
        names: &["-f", "--filename"],
        value: true,
    },
    Spec {
        names: &["-o", "--output"],
        value: true,
    },
    Spec {
        names: &["--workload-namespace"],
        value: true,
    },
    Spec {
        names: &["--workload-service-account"],
        value: true,
    },
    Spec {
        names: &["--workload-label"],
        value: true,
    },
    Spec {
        names: &["--workload-port"],
        value: true,
    },
    Spec {
        names: &["--app-id"],
        value: true,
    },
    Spec {
        names: &["--trust-domain"],
        value: true,
    },
    Spec {
        names: &["--settings"],
        value: true,
    },
];

pub fn run(argv: &[String]) -> Result<ExitCode, String> {
    let flags = Flags::parse(argv, SPECS)?;
    let mut objects = Vec::new();
    let files = match flags.all("-f") {
        [] => vec!["-".to_string()],
        fs => fs.to_vec(),
    };
    for f in &files {
        let (name, text) = read_input(f)?;
        objects.extend(manifests::read(&name, &text)?);
    }
    let settings = match flags.one("--settings")? {
        Some(path) => {
            let (name, text) = read_input(path)?;
            let v: Value = serde_saphyr::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
            if !v.is_object() {
                return Err(format!("{name}: settings must be an object"));
            }
            Some(v)
        }
        None => None,
    };
    let bundle = assemble(&flags, settings, &objects)?;
    let text = serde_json::to_string_pretty(&bundle).map_err(|e| e.to_string())? + "\n";
    let engine = validate(&text, &objects)?;
    for w in engine.warnings() {
        eprintln!("warning: {}", locate_warning(&w.to_string(), &objects));
    }
    match flags.one("-o")? {
        Some(path) if path != "-" => {
            std::fs::write(path, &text).map_err(|e| format!("{path}: {e}"))?;
            eprintln!("wrote {path}: {} resource(s)", objects.len());
        }
        _ => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// A file's text, or standard input for `-`.
pub fn read_input(path: &str) -> Result<(String, String), String> {
    if path == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("standard input: {e}"))?;
        return Ok(("<stdin>".into(), s));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    Ok((path.to_string(), text))
}

fn assemble(flags: &Flags, settings: Option<Value>, objects: &[Object]) -> Result<Value, String> {
    let mut workload = Map::new();
    let mut put = |key: &str, flag: &str| -> Result<(), String> {
        if let Some(v) = flags.one(flag)? {
            workload.insert(key.into(), json!(v));
        }
        Ok(())
    };
    put("namespace", "--workload-namespace")?;
    put("serviceAccount", "--workload-service-account")?;
    put("appId", "--app-id")?;
    put("trustDomain", "--trust-domain")?;
    let labels = pairs("--workload-label", flags.all("--workload-label"))?;
    if !labels.is_empty() {
        workload.insert("labels".into(), json!(labels));
    }
    let mut ports = Map::new();
    for (name, port) in pairs("--workload-port", flags.all("--workload-port"))? {
        let n: u16 = port
            .parse()
            .map_err(|_| format!("--workload-port {name}={port}: not a port number"))?;
        ports.insert(name, json!(n));
    }
    if !ports.is_empty() {
        workload.insert("ports".into(), Value::Object(ports));
    }
    let mut bundle = Map::new();
    if !workload.is_empty() {
        bundle.insert("workload".into(), Value::Object(workload));
    }
    if let Some(s) = settings {
        bundle.insert("settings".into(), s);
    }
    bundle.insert(
        "resources".into(),
        Value::Array(objects.iter().map(|o| o.value.clone()).collect()),
    );
    Ok(Value::Object(bundle))
}

/// Compiles the bundle as the filter will; an error about `resources[i]` is prefixed with the
/// file and document that object came from.
fn validate(text: &str, objects: &[Object]) -> Result<Engine, String> {
    Engine::from_json(text.as_bytes(), &Workload::default()).map_err(|e| match &e {
        BundleError::Resource { at, .. } => match index_of(at).and_then(|i| objects.get(i)) {
            Some(o) => format!("{}: {e}", o.origin),
            None => e.to_string(),
        },
        _ => e.to_string(),
    })
}

fn locate_warning(w: &str, objects: &[Object]) -> String {
    match index_of(w).and_then(|i| objects.get(i)) {
        Some(o) => format!("{}: {w}", o.origin),
        None => w.to_string(),
    }
}

/// `resources[12] (...)` → 12.
fn index_of(at: &str) -> Option<usize> {
    at.strip_prefix("resources[")?.split(']').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(yaml: &str) -> Vec<Object> {
        manifests::read("m.yaml", yaml).unwrap()
    }

    #[test]
    fn unknown_kinds_are_refused_with_document_and_kind() {
        let objs = objects(
            "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a}\n---\n\
             apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
        );
        let flags = Flags::default();
        let b = assemble(&flags, None, &objs).unwrap();
        let e = validate(&b.to_string(), &objs).unwrap_err();
        assert!(
            e.starts_with("m.yaml document 2 (line 4): resources[1] (Deployment"),
            "{e}"
        );
        assert!(e.contains("apps/v1/Deployment is not a supported policy kind"), "{e}");
    }

    #[test]
    fn invalid_fields_name_document_and_field() {
        let objs = objects(
            "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a}\n\
             spec: {rules: [{from: [{source: {principal: [x]}}]}]}\n",
        );
        let b = assemble(&Flags::default(), None, &objs).unwrap();
        let e = validate(&b.to_string(), &objs).unwrap_err();
        assert!(e.starts_with("m.yaml document 1 (line 1): resources[0]"), "{e}");
        assert!(e.contains("spec.rules[0].from[0].source"), "{e}");
    }

    #[test]
    fn workload_flags_fill_the_envelope() {
        let argv: Vec<String> = [
            "--workload-namespace",
            "shop",
            "--workload-label",
            "app=cart",
            "--trust-domain",
            "prod.example",
        ]
        .map(String::from)
        .to_vec();
        let flags = Flags::parse(&argv, SPECS).unwrap();
        let b = assemble(&flags, Some(json!({"mode": "dry-run"})), &[]).unwrap();
        assert_eq!(
            b,
            json!({"workload": {"namespace": "shop", "labels": {"app": "cart"}, "trustDomain": "prod.example"},
                   "settings": {"mode": "dry-run"}, "resources": []})
        );
        assert!(validate(&b.to_string(), &[]).unwrap().dry_run());
    }
}
