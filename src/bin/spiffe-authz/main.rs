//! `spiffe-authz`: the engine of the filter, offline.

mod args;
mod bundle;
mod flags;
mod manifests;
mod oci;
mod wasmplugin;

use std::process::ExitCode;

use serde_json::{json, Value};
use spiffe_authz::{Decision, Engine, Verdict, Workload};

use args::Args;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = argv.split_first() else {
        eprintln!("{}", args::help());
        return ExitCode::from(2);
    };
    if matches!(cmd.as_str(), "-h" | "--help" | "help") {
        println!("{}", args::help());
        return ExitCode::SUCCESS;
    }
    match run(cmd, rest) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("spiffe-authz {cmd}: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(cmd: &str, argv: &[String]) -> Result<ExitCode, String> {
    // Commands that take files rather than a request have their own flags.
    let own: Option<(fn(&[String]) -> Result<ExitCode, String>, &str)> = match cmd {
        "bundle" => Some((bundle::run, bundle::HELP)),
        "wasmplugin" => Some((wasmplugin::run, wasmplugin::HELP)),
        "package" => Some((oci::run, oci::HELP)),
        _ => None,
    };
    if let Some((run, help)) = own {
        if argv.iter().any(|a| a == "-h" || a == "--help") {
            println!("{help}");
            return Ok(ExitCode::SUCCESS);
        }
        return run(argv).map_err(|e| format!("{e}\n(see spiffe-authz {cmd} --help)"));
    }
    let args = Args::parse(argv)?;
    if let Some((flag, _)) = args.flags.first() {
        return Err(format!("unknown option {flag}\n{}", args::help()));
    }
    match cmd {
        "check" => {
            let engine = load(&args)?;
            let d = engine.evaluate(&args.request);
            println!(
                "{}",
                serde_json::to_string_pretty(&decision_json(&d)).unwrap_or_default()
            );
            Ok(if d.allowed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        "explain" => {
            let engine = load(&args)?;
            for (dialect, lines) in engine.explain(&args.request) {
                println!("{dialect}:");
                lines.iter().for_each(|l| println!("  {l}"));
            }
            let d = engine.evaluate(&args.request);
            println!("decision: {} ({})", d.verdict.effect.name(), describe(&d.verdict));
            Ok(if d.allowed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        "validate" => {
            let engine = load(&args)?;
            for w in engine.warnings() {
                println!("warning: {w}");
            }
            let layers: Vec<String> = engine
                .explain(&args.request)
                .into_iter()
                .map(|(d, _)| d.to_string())
                .collect();
            println!(
                "ok: layers [{}], {} warning(s)",
                layers.join(", "),
                engine.warnings().len()
            );
            Ok(ExitCode::SUCCESS)
        }
        other => Err(format!("unknown command {other:?}\n{}", args::help())),
    }
}

fn load(args: &Args) -> Result<Engine, String> {
    let path = args.bundle.as_deref().ok_or("--bundle FILE is required")?;
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    Engine::from_json(&bytes, &Workload::default()).map_err(|e| e.to_string())
}

fn describe(v: &Verdict<'_>) -> String {
    match &v.by {
        Some(by) => format!("{by}: {}", v.reason),
        None => v.reason.to_string(),
    }
}

fn verdict_json(v: &Verdict<'_>) -> Value {
    json!({
        "effect": v.effect.name(),
        "dialect": v.dialect.map(|d| d.name()),
        "policy": v.by.map(|b| b.meta.to_string()),
        "rule": v.by.and_then(|b| b.rule),
        "reason": v.reason,
    })
}

fn decision_json(d: &Decision<'_>) -> Value {
    let mut v = verdict_json(&d.verdict);
    if let Value::Object(m) = &mut v {
        m.insert("allowed".into(), json!(d.allowed()));
        m.insert("enforced".into(), json!(d.enforced));
        m.insert(
            "layers".into(),
            Value::Array(d.layers.iter().map(verdict_json).collect()),
        );
        m.insert(
            "dryRun".into(),
            Value::Array(d.dry_run.iter().map(verdict_json).collect()),
        );
        m.insert(
            "setHeaders".into(),
            d.set_headers
                .iter()
                .map(|(k, v)| ((*k).to_string(), json!(v)))
                .collect(),
        );
    }
    v
}
