//! `explain` as text: the workload and mode, every layer's applicable resources and rules with
//! why each matched or not, what was not applied, dry-run verdicts, and the decision.

use spiffe_authz::{Engine, Explanation, Request, Verdict};

pub fn explain(engine: &Engine, x: &Explanation<'_>, req: &Request) -> String {
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

pub fn describe(v: &Verdict<'_>) -> String {
    match v.by() {
        Some(by) => format!("{by}: {}", v.reason),
        None => v.reason.to_string(),
    }
}
