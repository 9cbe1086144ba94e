//! `spiffe-authz bundle`: Kubernetes manifests → the JSON bundle the filter loads.
//!
//! Resources are kept in their owners' formats (only server bookkeeping is dropped); the bundle
//! is compiled by the same engine as the filter before it is written, so a bundle this command
//! writes is one the filter accepts.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{json, Map, Value};
use spiffe_authz::{BundleError, Engine, Workload};

use crate::input::{field_position, read_input, resource_index, resource_message};
use crate::manifests::{self, Object};
use crate::output::{self, Data};

/// Reads Kubernetes YAML manifests (several documents per file, `kind: List`) and writes the
/// bundle. Objects of other kinds (Deployment, Service, Gateway, PeerAuthentication...) are left
/// out, each with a note naming file, document and kind (`--strict` refuses them instead). The
/// bundle is compiled before it is written: an invalid policy is refused with its
/// file:line:column and field.
#[derive(clap::Args)]
pub struct Args {
    /// A manifest file (repeatable; - or none: standard input).
    #[arg(short = 'f', long = "filename", value_name = "MANIFEST")]
    pub files: Vec<String>,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "json")]
    pub output: Data,
    /// Write the bundle to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Write the compact form (gzip + base64, which the filter expands): for bundles too large
    /// for a WasmPlugin as they are.
    #[arg(long)]
    pub compress: bool,
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// The bundle's `settings` object (JSON or YAML file).
    #[arg(long, value_name = "FILE")]
    pub settings: Option<String>,
    /// Refuse objects that are not policies instead of leaving them out.
    #[arg(long)]
    pub strict: bool,
}

/// The workload the filter protects; left out, the filter reads it from Istio's node metadata.
#[derive(clap::Args, Default)]
#[command(next_help_heading = "Workload")]
pub struct WorkloadArgs {
    #[arg(long, value_name = "NS")]
    pub workload_namespace: Option<String>,
    #[arg(long, value_name = "SA")]
    pub workload_service_account: Option<String>,
    /// A workload label (repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = pair)]
    pub workload_label: Vec<(String, String)>,
    /// A named container port, for Linkerd Servers (repeatable).
    #[arg(long, value_name = "NAME=PORT", value_parser = named_port)]
    pub workload_port: Vec<(String, u16)>,
    /// The Dapr app id.
    #[arg(long, value_name = "ID")]
    pub app_id: Option<String>,
    #[arg(long, value_name = "TD")]
    pub trust_domain: Option<String>,
}

/// `k=v` (labels, selectors).
pub fn pair(v: &str) -> Result<(String, String), String> {
    v.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{v:?} is not key=value"))
}

fn named_port(v: &str) -> Result<(String, u16), String> {
    let (name, port) = pair(v)?;
    let n = port.parse().map_err(|_| format!("{name}={port}: not a port number"))?;
    Ok((name, n))
}

pub fn run(args: &Args) -> Result<ExitCode, String> {
    let mut objects = Vec::new();
    let files = match args.files.as_slice() {
        [] => vec!["-".to_string()],
        fs => fs.to_vec(),
    };
    for f in &files {
        let (name, text) = read_input(f)?;
        objects.extend(manifests::read(&name, &text)?);
    }
    let (objects, others) = manifests::split_policies(objects);
    if let (true, Some(first)) = (args.strict, others.first()) {
        return Err(format!("{first} (--strict: only policies may be bundled)"));
    }
    for note in &others {
        eprintln!("note: {note}: left out");
    }
    let settings = match &args.settings {
        Some(path) => {
            let (name, text) = read_input(path)?;
            let (v, _) = crate::spans::parse(&text).map_err(|e| format!("{name}: {e}"))?;
            if !v.is_object() {
                return Err(format!("{name}: settings must be an object"));
            }
            Some(v)
        }
        None => None,
    };
    let bundle = assemble(&args.workload, settings, &objects);
    let json = serde_json::to_string_pretty(&bundle).map_err(|e| e.to_string())? + "\n";
    let engine = validate(&json, &objects)?;
    for w in engine.warnings() {
        eprintln!("warning: {}", locate_warning(w, &objects));
    }
    let (json, bundle) = if args.compress {
        let compact = spiffe_authz::compact::compress(&bundle.to_string());
        let value: Value = serde_json::from_str(&compact).map_err(|e| e.to_string())?;
        (compact + "\n", value)
    } else {
        (json, bundle)
    };
    let text = match args.output {
        Data::Json => json,
        Data::Yaml => output::render(&bundle, Data::Yaml)?,
    };
    output::emit(&text, args.output_file.as_deref())?;
    if let Some(path) = &args.output_file {
        eprintln!("wrote {}: {} resource(s)", path.display(), objects.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn assemble(w: &WorkloadArgs, settings: Option<Value>, objects: &[Object]) -> Value {
    let mut workload = Map::new();
    for (key, value) in [
        ("namespace", &w.workload_namespace),
        ("serviceAccount", &w.workload_service_account),
        ("appId", &w.app_id),
        ("trustDomain", &w.trust_domain),
    ] {
        if let Some(v) = value {
            workload.insert(key.into(), json!(v));
        }
    }
    if !w.workload_label.is_empty() {
        let labels: Map<String, Value> = w.workload_label.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        workload.insert("labels".into(), Value::Object(labels));
    }
    if !w.workload_port.is_empty() {
        let ports: Map<String, Value> = w.workload_port.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
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
    Value::Object(bundle)
}

/// Compiles the bundle as the filter will; an error about `resources[i]` points at the field
/// in the file that object came from (`file:line:column`).
fn validate(text: &str, objects: &[Object]) -> Result<Engine, String> {
    Engine::from_json(text.as_bytes(), &Workload::default()).map_err(|e| match &e {
        BundleError::Resource { at, field, message } => locate(objects, at, field, message, &e.to_string()),
        _ => e.to_string(),
    })
}

fn locate_warning(w: &spiffe_authz::Warning, objects: &[Object]) -> String {
    locate(objects, &w.at, &w.field, &w.message, &w.to_string())
}

fn locate(objects: &[Object], at: &str, field: &str, message: &str, text: &str) -> String {
    match resource_index(at).and_then(|i| objects.get(i)) {
        Some(o) => match field_position(&o.spans, field, message) {
            Some(pos) => format!("{}:{pos}: {}", o.file, resource_message(at, field, message, true)),
            None => format!("{}: {text}", o.origin),
        },
        None => text.to_string(),
    }
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
        let b = assemble(&WorkloadArgs::default(), None, &objs);
        let e = validate(&b.to_string(), &objs).unwrap_err();
        assert!(e.starts_with("m.yaml:5:1: resources[1] (Deployment"), "{e}");
        assert!(e.contains("apps/v1/Deployment is not a supported policy kind"), "{e}");
    }

    #[test]
    fn invalid_fields_name_document_and_field() {
        let objs = objects(
            "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a}\n\
             spec: {rules: [{from: [{source: {principal: [x]}}]}]}\n",
        );
        let b = assemble(&WorkloadArgs::default(), None, &objs);
        let e = validate(&b.to_string(), &objs).unwrap_err();
        assert!(e.starts_with("m.yaml:4:34: resources[0]"), "{e}");
        assert!(!e.contains("at line"), "{e}");
        assert!(e.contains("spec.rules[0].from[0].source"), "{e}");
    }

    #[test]
    fn workload_flags_fill_the_envelope() {
        let w = WorkloadArgs {
            workload_namespace: Some("shop".into()),
            workload_label: vec![pair("app=cart").unwrap()],
            trust_domain: Some("prod.example".into()),
            ..Default::default()
        };
        let b = assemble(&w, Some(json!({"mode": "dry-run"})), &[]);
        assert_eq!(
            b,
            json!({"workload": {"namespace": "shop", "labels": {"app": "cart"}, "trustDomain": "prod.example"},
                   "settings": {"mode": "dry-run"}, "resources": []})
        );
        assert!(validate(&b.to_string(), &[]).unwrap().dry_run());
    }
}
