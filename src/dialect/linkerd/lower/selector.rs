//! Kubernetes label selectors (`Server.spec.podSelector`, `ServerAuthorization.spec.server.selector`).

use std::collections::BTreeMap;

use super::super::invalid::{fail, Fail, Invalid};
use super::super::wire;

/// A Kubernetes label selector.
#[derive(Clone, Debug, Default)]
pub(in super::super) struct Selector {
    labels: BTreeMap<String, String>,
    exprs: Vec<(String, Op, Vec<String>)>,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Selector {
    /// Parses a `LabelSelector` (an empty one selects everything).
    pub fn parse(s: &wire::LabelSelector, field: &str) -> Result<Selector, Fail> {
        let wire::LabelSelector {
            match_labels,
            match_expressions,
        } = s;
        let mut exprs = Vec::new();
        for (i, e) in match_expressions.iter().enumerate() {
            let f = format!("{field}.matchExpressions[{i}]");
            let wire::LabelExpression { key, operator, values } = e;
            let op = match operator.as_str() {
                "In" => Op::In,
                "NotIn" => Op::NotIn,
                "Exists" => Op::Exists,
                "DoesNotExist" => Op::DoesNotExist,
                o => {
                    return fail(
                        format!("{f}.operator"),
                        Invalid::NotOneOf {
                            value: o.to_string(),
                            allowed: "In, NotIn, Exists or DoesNotExist",
                        },
                    )
                }
            };
            let values = values.clone().unwrap_or_default();
            match (op, values.is_empty()) {
                (Op::In | Op::NotIn, true) => {
                    return fail(
                        format!("{f}.values"),
                        Invalid::Selector("must not be empty for In and NotIn"),
                    )
                }
                (Op::Exists | Op::DoesNotExist, false) => {
                    return fail(
                        format!("{f}.values"),
                        Invalid::Selector("must be empty for Exists and DoesNotExist"),
                    )
                }
                _ => {}
            }
            exprs.push((key.clone(), op, values));
        }
        Ok(Selector {
            labels: match_labels.clone(),
            exprs,
        })
    }

    /// Does the selector select an object with these labels?
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.exprs.iter().all(|(k, op, vs)| match op {
                Op::In => labels.get(k).is_some_and(|v| vs.contains(v)),
                Op::NotIn => labels.get(k).is_none_or(|v| !vs.contains(v)),
                Op::Exists => labels.contains_key(k),
                Op::DoesNotExist => !labels.contains_key(k),
            })
    }
}
