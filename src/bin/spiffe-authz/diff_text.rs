//! `diff` for a person: one block per caller whose requests changed the same way, listing the
//! requests (methods merged per path), then the deciding rule before and after.

use std::fmt::Write;

use crate::diff::{group, Change, Outcome, Probe};

/// Paths listed per block in text (JSON lists all).
const PATHS_SHOWN: usize = 8;

pub fn render(summary: &str, changes: &[Change], limit: usize) -> String {
    let mut o = format!("{summary}\n");
    let groups = group(changes);
    let shown = if limit == 0 {
        groups.len()
    } else {
        limit.min(groups.len())
    };
    for ((probe, before, after), paths) in groups.iter().take(shown) {
        let _ = writeln!(o, "\n{} -> {}  {}", effect(before), effect(after), caller(probe));
        for (path, methods) in paths.iter().take(PATHS_SHOWN) {
            let _ = writeln!(o, "    {} {path}", methods.join(","));
        }
        if paths.len() > PATHS_SHOWN {
            let _ = writeln!(o, "    ... and {} more paths", paths.len() - PATHS_SHOWN);
        }
        let _ = writeln!(o, "    before: {}", outcome(before));
        let _ = writeln!(o, "    after:  {}", outcome(after));
    }
    if shown < groups.len() {
        let _ = writeln!(
            o,
            "\n... {} more (--limit 0 shows all; -o json lists every request)",
            groups.len() - shown
        );
    }
    o
}

/// `ALLOW`, `DENY`, `NOT-FOUND`, or `DENY (dry-run)` when the verdict is not enforced.
fn effect(o: &Outcome) -> String {
    let e = o.effect.to_ascii_uppercase();
    if o.allowed && o.effect != "allow" {
        format!("{e} (dry-run)")
    } else {
        e
    }
}

fn outcome(o: &Outcome) -> String {
    match &o.by {
        Some(by) => format!("{} by {by}: {}", o.effect, o.reason),
        None => format!("{}: {}", o.effect, o.reason),
    }
}

/// `from spiffe://... host h port p address a header n: v`.
fn caller(p: &Probe) -> String {
    let mut s = format!("from {}", p.principal.as_deref().unwrap_or("no client certificate"));
    if !p.host.is_empty() {
        let _ = write!(s, " host {}", p.host);
    }
    if let Some(port) = p.port {
        let _ = write!(s, " port {port}");
    }
    if let Some(ip) = p.source_ip {
        let _ = write!(s, " address {ip}");
    }
    if let Some((n, v)) = &p.header {
        let _ = write!(s, " header {n}: {v}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(effect: &'static str, by: Option<&str>) -> Outcome {
        Outcome {
            effect,
            allowed: effect == "allow",
            by: by.map(String::from),
            reason: "why".into(),
        }
    }

    fn change(method: &str, path: &str) -> Change {
        Change {
            request: Probe {
                principal: Some("spiffe://td/ns/a/sa/b".into()),
                method: method.into(),
                path: path.into(),
                host: String::new(),
                port: Some(8080),
                source_ip: None,
                header: None,
            },
            before: outcome("allow", Some("AuthorizationPolicy a/p rule 0")),
            after: outcome("deny", None),
        }
    }

    #[test]
    fn changes_of_one_caller_are_one_block() {
        let text = render(
            "3 changes",
            &[change("GET", "/x"), change("POST", "/x"), change("GET", "/y")],
            0,
        );
        let want = "ALLOW -> DENY  from spiffe://td/ns/a/sa/b port 8080\n    GET,POST /x\n    GET /y\n\
                    \x20   before: allow by AuthorizationPolicy a/p rule 0: why\n    after:  deny: why\n";
        assert!(text.contains(want), "{text}");
        assert_eq!(text.matches(" -> ").count(), 1);
    }

    #[test]
    fn the_limits_say_what_is_left_out() {
        let mut other = change("GET", "/x");
        other.request.principal = None;
        let text = render("s", &[change("GET", "/x"), other], 1);
        assert!(text.contains("... 1 more"), "{text}");
        let many: Vec<Change> = (0..10).map(|i| change("GET", &format!("/p{i}"))).collect();
        assert!(render("s", &many, 0).contains("... and 2 more paths"));
    }
}
