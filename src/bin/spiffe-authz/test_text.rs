//! `test` for a person, like `opa test`: failures with what differs, then the totals.

use std::fmt::Write;

use crate::test::{CaseReport, Report};

pub fn render(report: &Report, verbose: bool) -> String {
    let mut o = String::new();
    for f in &report.files {
        if let Some(e) = &f.error {
            let _ = writeln!(o, "ERROR {e}");
            continue;
        }
        for c in &f.cases {
            if c.passed && verbose {
                let _ = writeln!(o, "PASS  {}: {}", c.location, c.name);
            } else if !c.passed {
                failure(&mut o, c);
            }
        }
    }
    let s = &report.summary;
    let total = s.passed + s.failed;
    if !o.is_empty() {
        o.push_str(&"-".repeat(72));
        o.push('\n');
    }
    let _ = writeln!(o, "PASS: {}/{total}", s.passed);
    if s.failed > 0 {
        let _ = writeln!(o, "FAIL: {}/{total}", s.failed);
    }
    if s.errors > 0 {
        let _ = writeln!(o, "ERROR: {} of {} file(s) could not be run", s.errors, s.files);
    }
    o
}

fn failure(o: &mut String, c: &CaseReport) {
    let r = &c.request;
    let _ = writeln!(o, "FAIL  {}: {}", c.location, c.name);
    let mut req = format!("{} {}", r.method, r.path);
    if let Some(h) = &r.host {
        let _ = write!(req, " host {h}");
    }
    if let Some(p) = r.port {
        let _ = write!(req, " port {p}");
    }
    let _ = write!(
        req,
        " from {}",
        r.principal.as_deref().unwrap_or("no client certificate")
    );
    let _ = writeln!(o, "      request: {req}");
    for m in &c.mismatches {
        let _ = writeln!(o, "      - {:<9} {}", format!("{}:", m.field), m.expected);
        let _ = writeln!(o, "      + {:<9} {}", format!("{}:", m.field), m.got);
    }
    let by = match (&c.got.policy, c.got.rule) {
        (Some(p), Some(i)) => format!("{p} rule {i}"),
        (Some(p), None) => p.clone(),
        (None, _) => "no rule (a default)".into(),
    };
    let _ = writeln!(o, "      decided by {by}: {}", c.got.reason);
}
