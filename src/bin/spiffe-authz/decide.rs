//! `check`, `explain` and `validate`: one bundle, one request, the engine's own answer.

use std::process::ExitCode;

use serde_json::{json, Value};
use spiffe_authz::{Decision, Engine, Explanation, Verdict};

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
    let req = a.request.request(&engine.plan().path)?;
    // explain, not evaluate: the same decision, with every layer's verdict for `layers`.
    let x = engine.explain(&req);
    output::emit(&output::render(&decision_json(&x), a.output)?, None)?;
    Ok(exit_for(&x.decision))
}

pub fn explain(a: &ExplainArgs) -> Result<ExitCode, String> {
    let engine = input::read_bundle(&a.bundle)?.compile()?;
    let req = a.request.request(&engine.plan().path)?;
    let x = engine.explain(&req);
    let text = match a.output.data() {
        None => crate::decide_text::explain(&engine, &x, &req),
        Some(f) => output::render(&explain_json(&engine, &x), f)?,
    };
    output::emit(&text, None)?;
    Ok(exit_for(&x.decision))
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
    engine.dialects().map(|d| d.name()).collect()
}

pub fn verdict_json(v: &Verdict<'_>) -> Value {
    json!({
        "effect": v.effect.name(),
        "dialect": v.dialect().map(|d| d.name()),
        "policy": v.by().map(|b| b.meta.to_string()),
        "rule": v.by().and_then(|b| b.rule),
        "reason": v.reason.to_string(),
    })
}

/// The decision and, in `layers`, every layer's own verdict (a layer after the one that refused
/// is not asked by the filter; `asked: false` says so).
pub fn decision_json(x: &Explanation<'_>) -> Value {
    let d = &x.decision;
    let mut v = verdict_json(&d.verdict);
    if let Value::Object(m) = &mut v {
        m.insert("allowed".into(), json!(d.allowed()));
        m.insert("enforced".into(), json!(d.enforced));
        let layers = x.layers.iter().map(|l| {
            let mut lv = verdict_json(&l.verdict);
            if let Value::Object(lm) = &mut lv {
                lm.insert("asked".into(), json!(l.asked));
            }
            lv
        });
        m.insert("layers".into(), layers.collect());
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

fn explain_json(engine: &Engine, x: &Explanation<'_>) -> Value {
    json!({
        "dryRunMode": engine.dry_run(),
        "layers": x.layers.iter().map(|l| json!({
            "dialect": l.dialect.name(), "asked": l.asked, "lines": l.lines, "verdict": verdict_json(&l.verdict),
        })).collect::<Vec<_>>(),
        "warnings": engine.warnings().iter().map(|w| w.to_string()).collect::<Vec<_>>(),
        "decision": decision_json(x),
    })
}
