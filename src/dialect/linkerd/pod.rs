//! What the pod itself tells Linkerd's policy controller (`k8s/index/src/inbound/workload.rs`):
//! its `config.linkerd.io` annotations and its kubelet probes, from `workload.annotations` and
//! `workload.probes`.
//!
//! - `config.linkerd.io/default-inbound-policy` replaces the cluster's default policy for the
//!   pod's ports without a Server (an invalid value is ignored, as the controller ignores it);
//! - `config.linkerd.io/proxy-require-identity-inbound-ports` makes an `all-*` / `cluster-*`
//!   default policy on those ports require a mesh identity (`*-unauthenticated` becomes
//!   `*-authenticated`);
//! - `config.linkerd.io/opaque-ports`: those ports without a Server are opaque (no routes);
//! - each HTTP probe path is admitted with `GET` from the probe networks, on a port without a
//!   Server or whose Server has no HTTPRoute.

use super::authz::DefaultPolicy;
use crate::bundle::{ProbePort, Workload};
use crate::error::Warning;

const DEFAULT_POLICY: &str = "config.linkerd.io/default-inbound-policy";
const REQUIRE_ID: &str = "config.linkerd.io/proxy-require-identity-inbound-ports";
const OPAQUE: &str = "config.linkerd.io/opaque-ports";

/// The pod's settings.
#[derive(Debug, Default)]
pub(super) struct Pod {
    /// The pod's own default policy, if its annotation names one.
    pub default_policy: Option<DefaultPolicy>,
    pub require_identity: Vec<u16>,
    pub opaque: Vec<u16>,
    /// Probe paths by port.
    pub probes: Vec<(u16, Vec<String>)>,
}

impl Pod {
    /// Reads the workload; what Linkerd would ignore is ignored with a warning.
    pub fn of(w: &Workload, warnings: &mut Vec<Warning>) -> Pod {
        let mut warn = |field: String, message: String| {
            warnings.push(Warning {
                at: String::new(),
                field: format!("workload.{field}"),
                message,
            })
        };
        let anns = &w.annotations;
        let default_policy = anns.get(DEFAULT_POLICY).and_then(|v| match DefaultPolicy::parse(v) {
            Ok(p) => Some(p),
            Err(e) => {
                warn(
                    format!("annotations[{DEFAULT_POLICY:?}]"),
                    format!("ignored, as Linkerd ignores it: {e}"),
                );
                None
            }
        });
        let mut ports = |key: &str| match anns.get(key).map(|v| port_set(v)) {
            None => Vec::new(),
            Some(Ok(s)) => s,
            Some(Err(e)) => {
                warn(
                    format!("annotations[{key:?}]"),
                    format!("ignored, as Linkerd ignores it: {e}"),
                );
                Vec::new()
            }
        };
        let (require_identity, opaque) = (ports(REQUIRE_ID), ports(OPAQUE));
        let mut probes: Vec<(u16, Vec<String>)> = Vec::new();
        for (i, p) in w.probes.iter().enumerate() {
            let port = match &p.port {
                ProbePort::Number(n) => Some(*n),
                ProbePort::Name(n) => w.ports.get(n).copied(),
            };
            match port {
                Some(port) if port > 0 => {
                    // The controller keeps the probe URI's path: no query.
                    let path = p.path.split(['?', '#']).next().unwrap_or("/").to_string();
                    match probes.iter_mut().find(|(q, _)| *q == port) {
                        Some((_, paths)) if paths.contains(&path) => {}
                        Some((_, paths)) => paths.push(path),
                        None => probes.push((port, vec![path])),
                    }
                }
                _ => warn(
                    format!("probes[{i}].port"),
                    "names no port of the workload (workload.ports): ignored, as Linkerd ignores it".into(),
                ),
            }
        }
        Pod {
            default_policy,
            require_identity,
            opaque,
            probes,
        }
    }

    /// The default policy of a port without a Server.
    pub fn policy_for(&self, port: u16, cluster_default: DefaultPolicy) -> DefaultPolicy {
        let p = self.default_policy.unwrap_or(cluster_default);
        if !self.require_identity.contains(&port) {
            return p;
        }
        match p {
            DefaultPolicy::AllUnauthenticated => DefaultPolicy::AllAuthenticated,
            DefaultPolicy::ClusterUnauthenticated => DefaultPolicy::ClusterAuthenticated,
            other => other,
        }
    }

    /// The probe paths of `port`.
    pub fn probe_paths(&self, port: u16) -> Option<&[String]> {
        self.probes
            .iter()
            .find(|(p, _)| *p == port)
            .map(|(_, paths)| paths.as_slice())
    }

    /// The ports whose default server differs from the pod's plain default (may repeat).
    pub fn special_ports(&self) -> impl Iterator<Item = u16> + '_ {
        self.require_identity
            .iter()
            .chain(&self.opaque)
            .copied()
            .chain(self.probes.iter().map(|(p, _)| *p))
    }
}

/// A port-set annotation: ports and ranges, comma-separated (`8080,9000-9002`).
fn port_set(v: &str) -> Result<Vec<u16>, String> {
    let port = |s: &str| match s.trim().parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("{s:?} is not a port")),
    };
    let mut out = Vec::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (port(a)?, port(b)?);
                if a > b {
                    return Err(format!("{part:?} is not a port range"));
                }
                out.extend(a..=b);
            }
            None => out.push(port(part)?),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_sets_as_annotations_write_them() {
        assert_eq!(port_set("2222").unwrap(), [2222]);
        assert_eq!(port_set("80, 9000-9002").unwrap(), [80, 9000, 9001, 9002]);
        assert!(port_set("x").is_err());
        assert!(port_set("9-1").is_err());
        assert!(port_set("0").is_err());
    }

    #[test]
    fn required_identity_tightens_only_allow_policies() {
        use DefaultPolicy::*;
        let pod = Pod {
            require_identity: vec![2222],
            ..Pod::default()
        };
        let cases = [
            (AllUnauthenticated, AllAuthenticated),
            (ClusterUnauthenticated, ClusterAuthenticated),
            (AllAuthenticated, AllAuthenticated),
            (ClusterAuthenticated, ClusterAuthenticated),
            (Deny, Deny),
            (Audit, Audit),
        ];
        for (p, want) in cases {
            assert_eq!(pod.policy_for(2222, p), want);
            assert_eq!(pod.policy_for(3333, p), p);
        }
    }
}
