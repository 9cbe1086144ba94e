//! Real upstream manifests (tests/manifests/<repo>/*.yaml; sources and licenses in
//! tests/manifests/SOURCES.md) through the CLI as a user runs it: `bundle` (objects of other
//! kinds left out, each with a note), `validate`, and a few `check`s. No file may be refused
//! unless it says why on a `# spiffe-authz-test: refused "<text>" <why>` line, and no command
//! may crash. A file may also give extra `bundle` flags: `# spiffe-authz-test: flags <flags>`.
//! A wrong refusal not yet fixed is listed as `# spiffe-authz-test: known-gap "<text>" <issue>`:
//! the file may be refused with that text or accepted (then it must pass like any other), and
//! the summary line counts the gaps still open.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::cli::cli;
use serde_json::Value;

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// What a file's `# spiffe-authz-test:` lines ask for.
#[derive(Default)]
struct Directives {
    flags: Vec<String>,
    refused: Option<String>,
    known_gap: Option<String>,
}

fn directives(yaml: &str) -> Directives {
    let mut d = Directives::default();
    for line in yaml.lines().filter_map(|l| l.strip_prefix("# spiffe-authz-test: ")) {
        if let Some(flags) = line.strip_prefix("flags ") {
            d.flags.extend(flags.split_whitespace().map(String::from));
        } else if let Some(rest) = line.strip_prefix("refused \"") {
            d.refused = rest.split_once('"').map(|(t, _)| t.to_string());
        } else if let Some(rest) = line.strip_prefix("known-gap \"") {
            d.known_gap = rest.split_once('"').map(|(t, _)| t.to_string());
        }
    }
    d
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read tests/manifests")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml") {
            out.push(p);
        }
    }
}

/// The workload a user would bundle these objects for: the first policy's namespace, and what
/// it selects (Istio `selector.matchLabels`, Linkerd `podSelector.matchLabels`, Drako
/// `destinationServiceAccounts[0]`).
fn workload_flags(resources: &[Value]) -> Vec<String> {
    let Some(first) = resources.first() else {
        return Vec::new();
    };
    let mut flags = Vec::new();
    let ns = first["metadata"]["namespace"].as_str().unwrap_or("default");
    flags.extend(["--workload-namespace".to_string(), ns.to_string()]);
    let labels = first["spec"]["selector"]["matchLabels"]
        .as_object()
        .or_else(|| first["spec"]["podSelector"]["matchLabels"].as_object());
    for (k, v) in labels.into_iter().flatten() {
        if let Some(v) = v.as_str() {
            flags.extend(["--workload-label".to_string(), format!("{k}={v}")]);
        }
    }
    let sa = resources
        .iter()
        .find_map(|r| r["spec"]["destinationServiceAccounts"][0].as_str())
        .unwrap_or("default");
    flags.extend(["--workload-service-account".to_string(), sa.to_string()]);
    flags
}

/// A caller the file names, if any: an Istio principal, a Drako ClientGroup SPIFFE ID.
fn named_caller(resources: &[Value]) -> Option<String> {
    resources.iter().find_map(|r| {
        let istio = r["spec"]["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|rule| rule["from"].as_array().into_iter().flatten())
            .find_map(|f| f["source"]["principals"][0].as_str())
            .filter(|p| !p.contains('*'))
            .map(|p| format!("spiffe://{p}"));
        let drako = r["spec"]["spec"]["clientGroup"]["clientList"][0]["value"]
            .as_str()
            .filter(|v| v.starts_with("spiffe://"))
            .map(String::from);
        istio.or(drako)
    })
}

/// Runs one manifest; returns what went wrong, if anything.
fn run(path: &Path, tmp: &Path, notes: &mut usize, gaps: &mut usize) -> Option<String> {
    let rel = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(path);
    let file = rel.to_string_lossy().to_string();
    let yaml = std::fs::read_to_string(path).expect("read manifest");
    let d = directives(&yaml);
    let out = tmp.join(rel.file_name().unwrap_or_default()).with_extension("json");
    let out_s = out.to_string_lossy().to_string();
    let mut args = vec!["bundle", "-f", file.as_str(), "--output-file", out_s.as_str()];
    args.extend(d.flags.iter().map(String::as_str));
    let o = cli(&args);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    *notes += stderr.lines().filter(|l| l.starts_with("note: ")).count();
    if let Some(want) = &d.refused {
        return match o.status.code() {
            Some(2) if stderr.contains(want.as_str()) => None,
            _ => Some(format!("expected a refusal containing {want:?}, got {}", text(&o))),
        };
    }
    if let Some(gap) = d
        .known_gap
        .as_deref()
        .filter(|g| o.status.code() == Some(2) && stderr.contains(g))
    {
        *gaps += 1;
        println!("known gap: {file}: refused ({gap})");
        return None;
    }
    if o.status.code() != Some(0) {
        return Some(format!("bundle refused it: {}", text(&o)));
    }
    // Again, for the workload the policies are about.
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&out).ok()?).ok()?;
    let resources = bundle["resources"].as_array().cloned().unwrap_or_default();
    let mut args: Vec<String> = ["bundle", "-f", &file, "--output-file", &out_s]
        .map(String::from)
        .to_vec();
    if !d.flags.iter().any(|f| f.starts_with("--workload")) {
        args.extend(workload_flags(&resources));
    }
    args.extend(d.flags.iter().cloned());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = cli(&argv);
    if o.status.code() != Some(0) {
        return Some(format!("bundle {argv:?} refused it: {}", text(&o)));
    }
    let o = cli(&["validate", "--bundle", &out_s]);
    if o.status.code() != Some(0) {
        return Some(format!("validate: {}", text(&o)));
    }
    let ns = resources
        .first()
        .and_then(|r| r["metadata"]["namespace"].as_str())
        .unwrap_or("default");
    // Callers the file names are used when they are SPIFFE IDs (the CLI refuses others).
    let valid = |p: &String| spiffe_authz::SpiffeId::parse(p.as_str()).is_some();
    let someone = Some(format!("spiffe://cluster.local/ns/{ns}/sa/default"))
        .filter(valid)
        .unwrap_or_else(|| "spiffe://cluster.local/ns/default/sa/default".into());
    let mut checks: Vec<Vec<String>> = vec![
        vec!["--path".into(), "/".into()],
        vec![
            "--principal".into(),
            someone,
            "--method".into(),
            "POST".into(),
            "--path".into(),
            "/api/v1/x".into(),
        ],
        vec![
            "--principal".into(),
            "spiffe://cluster.local/ns/other/sa/x".into(),
            "--grpc".into(),
            "--path".into(),
            "/pkg.Svc/Method".into(),
        ],
    ];
    if let Some(p) = named_caller(&resources).filter(valid) {
        checks.push(vec!["--principal".into(), p, "--path".into(), "/".into()]);
    }
    for c in checks {
        let mut argv = vec!["check", "--bundle", out_s.as_str()];
        argv.extend(c.iter().map(String::as_str));
        let o = cli(&argv);
        let decided = matches!(o.status.code(), Some(0 | 1))
            && serde_json::from_slice::<Value>(&o.stdout).is_ok_and(|v| v["allowed"].is_boolean());
        if !decided {
            return Some(format!("check {c:?}: {}", text(&o)));
        }
    }
    None
}

#[test]
fn every_real_manifest_bundles_validates_and_decides() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("manifests");
    let mut all = Vec::new();
    files(&root, &mut all);
    assert!(all.len() >= 100, "expected 100+ manifests, found {}", all.len());
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("manifests");
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let (mut notes, mut gaps) = (0, 0);
    let failures: Vec<String> = all
        .iter()
        .filter_map(|p| run(p, &tmp, &mut notes, &mut gaps).map(|e| format!("{}: {e}", p.display())))
        .collect();
    println!(
        "real manifests: {} files, {} failed, {gaps} known gaps refused, {notes} objects of other kinds left out",
        all.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} manifests failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
}
