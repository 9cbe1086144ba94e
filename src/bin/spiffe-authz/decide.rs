//! `check`, `explain` and `validate`: one bundle, one request, the engine's own answer.

use std::process::ExitCode;

use serde_json::{json, Value};
use spiffe_authz::{Decision, Engine, Request, Verdict};

use crate::input::{self, Source};
use crate::output::{self, Data, Report};
use crate::request_args::RequestArgs;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The bundle (JSON or YAML; - for standard input).
    #[arg(long, short = 'b', value_name = "FILE")]
    pub bundle: String,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "json")]
    pub output: Data,
    #[command(flatten)]
    pub request: RequestArgs,
}

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// The bundle (JSON or YAML; - for standard input).
    #[arg(long, short = 'b', value_name = "FILE")]
    pub bundle: String,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    pub output: Report,
    #[command(flatten)]
    pub request: RequestArgs,
}

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// The bundle (JSON or YAML; - for standard input).
    #[arg(long, short = 'b', value_name = "FILE")]
    pub bundle: String,
    /// Output format (json and yaml report an invalid bundle on standard output too).
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    pub output: Report,
}

/// Exit 0 when the request is forwarded, 1 when it is refused.
fn exit_for(d: &Decision<'_>) -> ExitCode {
    if d.allowed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

pub fn check(a: &CheckArgs) -> Result<ExitCode, String> {
    let engine = input::read_bundle(&a.bundle)?.compile()?;
    let req = a.request.request(engine.path_options())?;
    let d = engine.evaluate(&req);
    output::emit(&output::render(&decision_json(&d), a.output)?, None)?;
    Ok(exit_for(&d))
}

pub fn explain(a: &ExplainArgs) -> Result<ExitCode, String> {
    let engine = input::read_bundle(&a.bundle)?.compile()?;
    let req = a.request.request(engine.path_options())?;
    let d = engine.evaluate(&req);
    let text = match a.output.data() {
        None => crate::decide_text::explain(&engine, &d, &req),
        Some(f) => output::render(&explain_json(&engine, &d, &req), f)?,
    };
    output::emit(&text, None)?;
    Ok(exit_for(&d))
}

pub fn validate(a: &ValidateArgs) -> Result<ExitCode, String> {
    let src = input::read_bundle(&a.bundle)?;
    let engine = match (src.compile(), a.output.data()) {
        (Ok(e), _) => e,
        (Err(e), None) => return Err(e),
        (Err(e), Some(f)) => {
            // Machine readers get the error on standard output too, in the format they asked for.
            output::emit(&output::render(&json!({"valid": false, "error": e}), f)?, None)?;
            return Err(e);
        }
    };
    let warnings: Vec<String> = engine.warnings().iter().map(|w| src.locate_warning(w)).collect();
    let layers: Vec<&str> = layer_names(&engine);
    let text = match a.output.data() {
        None => text_report(&src, &engine, &warnings, &layers),
        Some(f) => output::render(
            &json!({
                "valid": true,
                "layers": layers,
                "dryRun": engine.dry_run(),
                "warnings": engine.warnings().iter().zip(&warnings).map(|(w, located)| json!({
                    "resource": w.at, "field": w.field, "message": w.message, "text": located,
                })).collect::<Vec<_>>(),
            }),
            f,
        )?,
    };
    output::emit(&text, None)?;
    Ok(ExitCode::SUCCESS)
}

fn text_report(src: &Source, engine: &Engine, warnings: &[String], layers: &[&str]) -> String {
    let mut out: String = warnings.iter().map(|w| format!("warning: {w}\n")).collect();
    out.push_str(&format!(
        "{}: ok: layers [{}], {} warning(s){}\n",
        src.name,
        layers.join(", "),
        warnings.len(),
        if engine.dry_run() {
            ", mode dry-run (nothing is enforced)"
        } else {
            ""
        }
    ));
    out
}

/// The dialects present, in the order they are asked.
pub fn layer_names(engine: &Engine) -> Vec<&'static str> {
    engine
        .explain(&Request::new("GET", "/"))
        .into_iter()
        .map(|(d, _)| d.name())
        .collect()
}

pub fn verdict_json(v: &Verdict<'_>) -> Value {
    json!({
        "effect": v.effect.name(),
        "dialect": v.dialect.map(|d| d.name()),
        "policy": v.by.map(|b| b.meta.to_string()),
        "rule": v.by.and_then(|b| b.rule),
        "reason": v.reason,
    })
}

pub fn decision_json(d: &Decision<'_>) -> Value {
    let mut v = verdict_json(&d.verdict);
    if let Value::Object(m) = &mut v {
        m.insert("allowed".into(), json!(d.allowed()));
        m.insert("enforced".into(), json!(d.enforced));
        m.insert("layers".into(), d.layers.iter().map(verdict_json).collect());
        m.insert("dryRun".into(), d.dry_run.iter().map(verdict_json).collect());
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

fn explain_json(engine: &Engine, d: &Decision<'_>, req: &Request) -> Value {
    json!({
        "request": {
            "principal": req.peer.id().map(|i| i.as_str()),
            "method": req.method, "path": req.path, "host": req.host, "port": req.port,
        },
        "dryRunMode": engine.dry_run(),
        "layers": engine.explain(req).into_iter().zip(&d.layers).map(|((dialect, lines), v)| json!({
            "dialect": dialect.name(), "lines": lines, "verdict": verdict_json(v),
        })).collect::<Vec<_>>(),
        "warnings": engine.warnings().iter().map(|w| w.to_string()).collect::<Vec<_>>(),
        "decision": decision_json(d),
    })
}
