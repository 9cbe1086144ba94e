//! Owner conformance suites: the owners' own tests (istio/istio, linkerd/linkerd2-proxy,
//! linkerd/linkerd2, dapr/dapr, the Drako docs), ported as data with a citation.
//!
//! `tests/owners/<owner>/<topic>.json`:
//! ```json
//! {"owner": "istio",
//!  "source": {"repo": "istio/istio", "commit": "86c9f01f…", "path": "pkg/config/validation/validation_test.go",
//!             "test": "TestValidateAuthorizationPolicy"},
//!  "description": "what the file covers",
//!  "groups": [
//!    {"name": "principals with a wildcard in the middle are refused",
//!     "source": {"test": "TestValidateAuthorizationPolicy/invalid principal"},
//!     "bundle": {"workload": {…}, "resources": […]},
//!     "load": {"refused": "principals"},
//!     "cases": []},
//!    {"name": "allow-full-rule", "source": {"path": "pilot/pkg/security/authz/builder/testdata/http/allow-full-rule-in.yaml"},
//!     "bundle": {…}, "cases": [{"name": "…", "principal": "spiffe://…", "path": "/x", "expect": "allow"}]}]}
//! ```
//! A group's `source` adds to (and overrides) the file's. `load` is `"ok"` (the default: the
//! bundle must load) or `{"refused": "<text the error must contain>"}`. Cases are the
//! `policies/**/*.cases.json` shape (see [`super::cases`]), plus an optional `source` note. Each
//! group and each case counts as one owner-derived case.

use std::collections::BTreeMap;

use serde::Deserialize;
use spiffe_authz::{Engine, Workload};

use super::cases::{check, Case};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    pub owner: String,
    pub source: Source,
    #[serde(default)]
    pub description: String,
    pub groups: Vec<Group>,
}

/// Where a ported test comes from. `repo` and `commit` are required at file level.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub repo: Option<String>,
    pub commit: Option<String>,
    pub path: Option<String>,
    pub test: Option<String>,
    pub url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: String,
    #[serde(default)]
    pub source: Source,
    /// How the group was derived from the owner's test, for the reader (never checked).
    #[serde(default)]
    pub note: Option<String>,
    pub bundle: serde_json::Value,
    #[serde(default)]
    pub load: Load,
    #[serde(default)]
    pub cases: Vec<Case>,
}

#[derive(Default, Deserialize)]
#[serde(untagged)]
pub enum Load {
    #[default]
    Ok,
    Named(String),
    Refused {
        refused: String,
    },
}

/// Counts per owner: (cases, failures).
pub type Tally = BTreeMap<String, (usize, usize)>;

/// Runs one suite file; appends failures as readable lines and counts its cases per owner.
pub fn run(file: &str, text: &str, failures: &mut Vec<String>, tally: &mut Tally) {
    let suite: Suite = match serde_json::from_str(text) {
        Ok(s) => s,
        Err(e) => {
            failures.push(format!("{file}: {e}"));
            return;
        }
    };
    let entry = tally.entry(suite.owner.clone()).or_default();
    if suite.source.repo.is_none() || suite.source.commit.is_none() {
        failures.push(format!("{file}: source.repo and source.commit are required"));
        entry.1 += 1;
    }
    for g in &suite.groups {
        let at = format!("{file}: group {:?}", g.name);
        entry.0 += 1 + g.cases.len();
        let text = match &g.bundle {
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        let refused = match &g.load {
            Load::Ok => None,
            Load::Named(s) if s == "ok" => None,
            Load::Named(s) => {
                failures.push(format!("{at}: load must be \"ok\" or {{\"refused\": …}}, not {s:?}"));
                entry.1 += 1;
                continue;
            }
            Load::Refused { refused } => Some(refused.as_str()),
        };
        match (Engine::from_json(text.as_bytes(), &Workload::default()), refused) {
            (Ok(engine), None) => {
                for c in &g.cases {
                    if let Some(bad) = check(&engine, c) {
                        failures.push(format!("{at}: case {:?}: {bad}", c.name));
                        entry.1 += 1;
                    }
                }
            }
            (Ok(_), Some(want)) => {
                failures.push(format!(
                    "{at}: loaded, but the owner refuses it (expected an error containing {want:?})"
                ));
                entry.1 += 1 + g.cases.len();
            }
            (Err(e), None) => {
                failures.push(format!("{at}: refused, but the owner accepts it: {e}"));
                entry.1 += 1 + g.cases.len();
            }
            (Err(e), Some(want)) => {
                if !e.to_string().contains(want) {
                    failures.push(format!(
                        "{at}: refused as expected, but the error {:?} does not contain {want:?}",
                        e.to_string()
                    ));
                    entry.1 += 1;
                }
            }
        }
    }
}
