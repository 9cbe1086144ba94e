//! `spiffe-authz`: the engine of the filter, offline.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// `println!` that never panics: when the reader has gone (`spiffe-authz check ... | head`), the
/// output is dropped and the exit code still tells the decision.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod args;
mod authz;
mod bundle;
mod flags;
mod manifests;
mod oci;
mod push;
mod wasmplugin;

use std::process::ExitCode;

use serde_json::{json, Value};
use spiffe_authz::{Engine, Explanation, Verdict, Workload};

use args::Args;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = argv.split_first() else {
        eprintln!("{}", args::help());
        return ExitCode::from(2);
    };
    if matches!(cmd.as_str(), "-h" | "--help" | "help") {
        outln!("{}", args::help());
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

/// A command with its own flags.
type Command = fn(&[String]) -> Result<ExitCode, String>;

fn run(cmd: &str, argv: &[String]) -> Result<ExitCode, String> {
    // Commands that take files rather than a request have their own flags.
    let own: Option<(Command, &str)> = match cmd {
        "bundle" => Some((bundle::run, bundle::HELP)),
        "wasmplugin" => Some((wasmplugin::run, wasmplugin::HELP)),
        "package" => Some((oci::run, oci::HELP)),
        "push" => Some((push::run, push::HELP)),
        "authz" => Some((authz::run, authz::HELP)),
        _ => None,
    };
    if let Some((run, help)) = own {
        if argv.iter().any(|a| a == "-h" || a == "--help") {
            outln!("{help}");
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
            let x = engine.explain(&args.request);
            outln!(
                "{}",
                serde_json::to_string_pretty(&decision_json(&x)).unwrap_or_default()
            );
            Ok(if x.decision.allowed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        "explain" => {
            let engine = load(&args)?;
            let x = engine.explain(&args.request);
            print!("{}", explain(&engine, &x, &args.request));
            Ok(if x.decision.allowed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        "validate" => {
            let engine = load(&args)?;
            for w in engine.warnings() {
                outln!("warning: {w}");
            }
            let layers: Vec<String> = engine.dialects().map(|d| d.to_string()).collect();
            outln!(
                "ok: layers [{}], {} warning(s){}",
                layers.join(", "),
                engine.warnings().len(),
                if engine.dry_run() {
                    ", mode dry-run (nothing is enforced)"
                } else {
                    ""
                }
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

/// `explain`: the workload and mode, every layer's applicable resources and rules with why each
/// matched or not, what was not applied, dry-run verdicts, and the decision.
fn explain(engine: &Engine, x: &Explanation<'_>, req: &spiffe_authz::Request) -> String {
    let d = &x.decision;
    use std::fmt::Write;
    let mut o = String::new();
    let wl = engine.workload();
    let labels: Vec<String> = wl.labels.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
    let _ = writeln!(
        o,
        "workload: namespace {:?}, service account {:?}, labels [{}]",
        wl.namespace(),
        wl.service_account.as_deref().unwrap_or(""),
        labels.join(", ")
    );
    let peer = req.peer.id().map_or("none (no client certificate)", |i| i.as_str());
    let _ = writeln!(
        o,
        "request: {} {} host {:?} from {peer}",
        req.method, req.path, req.host
    );
    let _ = writeln!(
        o,
        "mode: {}",
        if engine.dry_run() {
            "dry-run (settings.mode): decisions are computed, logged and counted, never enforced"
        } else {
            "enforce"
        }
    );
    for layer in &x.layers {
        let _ = writeln!(o, "\n{}:", layer.dialect);
        layer.lines.iter().for_each(|l| {
            let _ = writeln!(o, "  {l}");
        });
    }
    if !engine.warnings().is_empty() {
        let _ = writeln!(o, "\nnot applied / warnings (see `validate`):");
        for w in engine.warnings() {
            let _ = writeln!(o, "  {w}");
        }
    }
    if !d.dry_run.is_empty() {
        let _ = writeln!(o, "\ndry-run and audit verdicts (reported, never enforced):");
        for v in &d.dry_run {
            let _ = writeln!(o, "  {} ({})", v.effect.name(), describe(v));
        }
    }
    let _ = writeln!(o, "\ndecision: {} ({})", d.verdict.effect.name(), describe(&d.verdict));
    let _ = writeln!(
        o,
        "{}",
        match (d.enforced, d.allowed()) {
            (true, true) => "forwarded",
            (true, false) => "refused",
            (false, _) => "forwarded: DRY-RUN, the verdict above is only logged and counted",
        }
    );
    o
}

fn describe(v: &Verdict<'_>) -> String {
    match v.by() {
        Some(by) => format!("{by}: {}", v.reason),
        None => v.reason.to_string(),
    }
}

fn verdict_json(v: &Verdict<'_>) -> Value {
    json!({
        "effect": v.effect.name(),
        "dialect": v.dialect().map(|d| d.name()),
        "policy": v.by().map(|b| b.meta.to_string()),
        "rule": v.by().and_then(|b| b.rule),
        "reason": v.reason.to_string(),
    })
}

fn decision_json(x: &Explanation<'_>) -> Value {
    let d = &x.decision;
    let mut v = verdict_json(&d.verdict);
    if let Value::Object(m) = &mut v {
        m.insert("allowed".into(), json!(d.allowed()));
        m.insert("enforced".into(), json!(d.enforced));
        m.insert(
            "layers".into(),
            Value::Array(x.layers.iter().map(|l| verdict_json(&l.verdict)).collect()),
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
