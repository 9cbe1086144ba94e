//! `spiffe-authz diff OLD NEW`: the requests a policy change decides differently, with the
//! deciding rule before and after: what a reviewer of a policy pull request needs.
//!
//! The requests are built from what the two bundles mention and the edges around it
//! (probes.rs); each is decided by both engines through `Engine::evaluate`, the filter's own
//! decision path, so the diff cannot disagree with what Envoy would enforce.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::process::ExitCode;

use serde::Serialize;
use spiffe_authz::{Decision, Engine, Peer, Request};

use crate::input;
use crate::output::{self, Report};
use crate::probes::Mentioned;

#[derive(clap::Args)]
pub struct Args {
    /// The bundle before the change (JSON or YAML; - for standard input).
    pub old: String,
    /// The bundle after the change.
    pub new: String,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    pub output: Report,
    /// In text, show at most this many changes (0: all).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// Above this many probes, the minor attributes (host, port, address, header) are varied one
/// at a time instead of in every combination.
const FULL_PRODUCT_LIMIT: usize = 250_000;

/// One probe: the request attributes, as printed.
#[derive(Serialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    pub principal: Option<String>,
    pub method: String,
    pub path: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<(String, String)>,
}

impl Probe {
    fn request(&self) -> Request {
        let mut r = Request::new(&self.method, &self.path);
        r.peer = self
            .principal
            .as_deref()
            .map_or(Peer::Unauthenticated, Peer::from_uri_san);
        if !self.host.is_empty() {
            r.set_authority(&self.host);
        }
        r.port = self.port;
        r.source_ip = self.source_ip;
        if let Some((n, v)) = &self.header {
            r.add_header(n, v);
        }
        r
    }
}

/// A decision, owned, as the diff shows it.
#[derive(Serialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Outcome {
    pub effect: &'static str,
    pub allowed: bool,
    /// `AuthorizationPolicy ns/name rule 0`, or none when a default decided.
    pub by: Option<String>,
    pub reason: String,
}

impl Outcome {
    fn of(d: &Decision<'_>) -> Outcome {
        Outcome {
            effect: d.verdict.effect.name(),
            allowed: d.allowed(),
            by: d.verdict.by().map(|b| b.to_string()),
            reason: d.verdict.reason.to_string(),
        }
    }
}

#[derive(Serialize)]
pub struct Change {
    pub request: Probe,
    pub before: Outcome,
    pub after: Outcome,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DiffReport<'a> {
    old: &'a str,
    new: &'a str,
    probed: usize,
    /// True when the minor attributes were varied one at a time.
    sampled: bool,
    changes: &'a [Change],
}

pub fn run(a: &Args) -> Result<ExitCode, String> {
    if a.old == "-" && a.new == "-" {
        return Err("only one of OLD and NEW can be standard input".into());
    }
    let (old, new) = (input::read_bundle(&a.old)?, input::read_bundle(&a.new)?);
    let (before, after) = (old.compile()?, new.compile()?);
    let mut mentioned = Mentioned::default();
    for src in [&old, &new] {
        mentioned.add_bundle(&src.value()?);
    }
    let (changes, probed, sampled) = compare(&before, &after, &mentioned);
    let report = DiffReport {
        old: &old.name,
        new: &new.name,
        probed,
        sampled,
        changes: &changes,
    };
    let text = match a.output.data() {
        None => crate::diff_text::render(&report_summary(&report), &changes, a.limit),
        Some(f) => output::render(&report, f)?,
    };
    output::emit(&text, None)?;
    Ok(if changes.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn report_summary(r: &DiffReport<'_>) -> String {
    format!(
        "{} of {} requests probed are decided differently ({} -> {}){}",
        r.changes.len(),
        r.probed,
        r.old,
        r.new,
        if r.sampled {
            "; host, port, address and header varied one at a time"
        } else {
            ""
        }
    )
}

/// Decides every probe with both engines; returns the changes, the number of probes, and
/// whether the minor attributes were sampled.
pub fn compare(before: &Engine, after: &Engine, m: &Mentioned) -> (Vec<Change>, usize, bool) {
    let ids = m.identity_probes();
    let paths = m.path_probes();
    let methods = m.method_probes();
    let hosts = m.host_probes();
    let ports = m.port_probes();
    let ips = m.ip_probes();
    let headers = m.header_probes();
    let minor = hosts.len() * ports.len() * ips.len() * headers.len();
    let sampled = ids.len() * paths.len() * methods.len() * minor > FULL_PRODUCT_LIMIT;
    // Each minor combination as indexes into (hosts, ports, ips, headers).
    let minors: Vec<[usize; 4]> = if sampled {
        let lens = [hosts.len(), ports.len(), ips.len(), headers.len()];
        let mut v = vec![[0; 4]];
        for (axis, len) in lens.iter().enumerate() {
            for i in 1..*len {
                let mut c = [0; 4];
                c[axis] = i;
                v.push(c);
            }
        }
        v
    } else {
        let mut v = Vec::with_capacity(minor);
        for h in 0..hosts.len() {
            for p in 0..ports.len() {
                for i in 0..ips.len() {
                    for hd in 0..headers.len() {
                        v.push([h, p, i, hd]);
                    }
                }
            }
        }
        v
    };
    let mut changes = Vec::new();
    let mut probed = 0;
    for id in &ids {
        for path in &paths {
            for method in &methods {
                for [h, p, i, hd] in &minors {
                    let probe = Probe {
                        principal: id.clone(),
                        method: method.clone(),
                        path: path.clone(),
                        host: hosts[*h].clone(),
                        port: ports[*p],
                        source_ip: ips[*i],
                        header: headers[*hd].clone(),
                    };
                    let req = probe.request();
                    probed += 1;
                    let (b, a) = (Outcome::of(&before.evaluate(&req)), Outcome::of(&after.evaluate(&req)));
                    if (b.effect, b.allowed) != (a.effect, a.allowed) {
                        changes.push(Change {
                            request: probe,
                            before: b,
                            after: a,
                        });
                    }
                }
            }
        }
    }
    (changes, probed, sampled)
}

/// Changes from one caller (and host, port, address, header) with the same verdicts before and
/// after, as one block: `(request without method and path, before, after) -> path -> methods`.
pub type Grouped<'a> = BTreeMap<(Probe, &'a Outcome, &'a Outcome), BTreeMap<&'a str, Vec<&'a str>>>;

pub fn group(changes: &[Change]) -> Grouped<'_> {
    let mut g = Grouped::new();
    for c in changes {
        let key = Probe {
            method: String::new(),
            path: String::new(),
            ..c.request.clone()
        };
        g.entry((key, &c.before, &c.after))
            .or_default()
            .entry(&c.request.path)
            .or_default()
            .push(&c.request.method);
    }
    g
}
