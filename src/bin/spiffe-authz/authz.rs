//! `spiffe-authz authz`: per policy, how many requests it allowed and denied — the table
//! `linkerd viz authz` shows — from Envoy's `/stats/prometheus` (the filter's per-policy
//! counters, see src/filter/policy_metrics.rs). Reads a file or standard input, so it works
//! wherever the admin endpoint can be reached:
//!
//! ```text
//! kubectl exec POD -c istio-proxy -- curl -s localhost:15000/stats/prometheus | spiffe-authz authz
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde_json::json;

use crate::input::read_input;
use crate::output::{self, Report};

/// Reads Envoy's /stats/prometheus (a file, or standard input) and prints, per deciding policy,
/// the requests it allowed and denied and what dry-run policies would have done.
#[derive(clap::Args)]
pub struct Args {
    /// The stats file (- or none: standard input).
    #[arg(short = 'f', long = "filename", value_name = "STATS", default_value = "-")]
    pub file: String,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    pub output: Report,
}

const COLUMNS: [&str; 4] = ["allowed", "denied", "dry_run_allowed", "dry_run_denied"];

pub fn run(a: &Args) -> Result<ExitCode, String> {
    let (_, text) = read_input(&a.file)?;
    let rows = table(&text);
    if rows.is_empty() {
        return Err(
            "no spiffe_authz_policy_* counters in the input (is it Envoy's /stats/prometheus, \
                    with the stats_tags of envoy/envoy.yaml or Istio's extraStatTags?)"
                .into(),
        );
    }
    let text = match a.output.data() {
        None => render(&rows),
        Some(f) => output::render(&rows_json(&rows), f)?,
    };
    output::emit(&text, None)?;
    Ok(ExitCode::SUCCESS)
}

/// `(dialect, policy) -> [allowed, denied, dry_run_allowed, dry_run_denied]`.
type Rows = BTreeMap<(String, String), [u64; 4]>;

fn table(text: &str) -> Rows {
    let mut rows = Rows::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("spiffe_authz_policy_") else {
            continue;
        };
        let Some((metric, rest)) = rest.split_once('{') else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once("} ") else {
            continue;
        };
        let Some(col) = COLUMNS.iter().position(|c| *c == metric) else {
            continue;
        };
        let Ok(value) = value.trim().parse::<f64>() else {
            continue;
        };
        let label = |name: &str| {
            labels
                .split("\",")
                .filter_map(|kv| kv.split_once("=\""))
                .find(|(k, _)| k.trim() == name)
                .map(|(_, v)| v.trim_end_matches('"').to_string())
                .unwrap_or_default()
        };
        let policy = match label("policy_kind").as_str() {
            "default" => format!("default ({})", label("policy_name")),
            kind => format!("{kind} {}/{}", label("policy_namespace"), label("policy_name")),
        };
        let row = rows.entry((label("dialect"), policy)).or_default();
        // Counters are integers; the exposition format writes them as numbers.
        row[col] += value as u64;
    }
    rows
}

fn rows_json(rows: &Rows) -> serde_json::Value {
    rows.iter()
        .map(|((dialect, policy), [a, d, da, dd])| {
            json!({"dialect": dialect, "policy": policy, "allowed": a, "denied": d,
                   "dryRunAllowed": da, "dryRunDenied": dd})
        })
        .collect()
}

fn render(rows: &Rows) -> String {
    let width = rows.keys().map(|(_, p)| p.len()).max().unwrap_or(0).max(6);
    let mut out = format!(
        "{:<8} {:<width$} {:>9} {:>9} {:>9} {:>15} {:>15}\n",
        "DIALECT", "POLICY", "ALLOWED", "DENIED", "DENY %", "DRY-RUN ALLOW", "DRY-RUN DENY"
    );
    for ((dialect, policy), [a, d, da, dd]) in rows {
        let pct = if a + d == 0 {
            "-".to_string()
        } else {
            format!("{:.1}", 100.0 * *d as f64 / (a + d) as f64)
        };
        out.push_str(&format!(
            "{dialect:<8} {policy:<width$} {a:>9} {d:>9} {pct:>9} {da:>15} {dd:>15}\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATS: &str = r#"# TYPE spiffe_authz_policy_allowed counter
spiffe_authz_policy_allowed{dialect="istio",policy_kind="AuthorizationPolicy",policy_namespace="shop",policy_name="allow-web"} 4
# TYPE spiffe_authz_policy_denied counter
spiffe_authz_policy_denied{dialect="istio",policy_kind="default",policy_namespace="-",policy_name="deny"} 2
spiffe_authz_policy_denied{dialect="istio",policy_kind="AuthorizationPolicy",policy_namespace="shop",policy_name="allow-web"} 1
spiffe_authz_policy_dry_run_denied{dialect="istio",policy_kind="AuthorizationPolicy",policy_namespace="shop",policy_name="deny-delete"} 1
spiffe_authz_allowed{} 5
"#;

    #[test]
    fn per_policy_rows_from_prometheus_text() {
        let rows = table(STATS);
        let web = ("istio".to_string(), "AuthorizationPolicy shop/allow-web".to_string());
        assert_eq!(rows[&web], [4, 1, 0, 0]);
        assert_eq!(rows[&("istio".into(), "default (deny)".into())], [0, 2, 0, 0]);
        assert_eq!(
            rows[&("istio".into(), "AuthorizationPolicy shop/deny-delete".into())],
            [0, 0, 0, 1]
        );
        let text = render(&rows);
        assert!(
            text.contains("AuthorizationPolicy shop/allow-web") && text.contains("20.0"),
            "{text}"
        );
        let j = rows_json(&rows);
        assert_eq!(j[0]["policy"], "AuthorizationPolicy shop/allow-web");
        assert_eq!((j[0]["allowed"].as_u64(), j[0]["denied"].as_u64()), (Some(4), Some(1)));
    }
}
