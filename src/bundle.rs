//! The plugin configuration: a JSON envelope around Kubernetes objects in their owners' formats.
//!
//! ```json
//! {"workload":  {"namespace": "myapp", "serviceAccount": "backend", "labels": {"app": "backend"},
//!                "appId": "backend", "trustDomain": "cluster.local", "ports": {"http": 8080}},
//!  "settings":  {"rootNamespace": "istio-system", "trustDomainAliases": [], "defaultAction": "deny"},
//!  "resources": [{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", ...}]}
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::BundleError;
use crate::request::decode_pairs;
pub use crate::request::path::Options as PathSettings;

/// The envelope, with each resource kept as raw JSON until its dialect parses it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle<'a> {
    /// The workload this filter protects.
    #[serde(default)]
    pub workload: Workload,
    /// Engine-wide settings.
    #[serde(default)]
    pub settings: Settings,
    /// Kubernetes objects.
    #[serde(default, borrow)]
    pub resources: Vec<&'a RawValue>,
}

impl<'a> Bundle<'a> {
    /// Parses the envelope, naming the field that is wrong.
    pub fn parse(json: &'a str) -> Result<Bundle<'a>, BundleError> {
        // serde would also read a struct from a JSON array (`[{...}, {...}, []]`, by position).
        if !json.trim_start().starts_with('{') {
            return Err(BundleError::Envelope {
                field: String::new(),
                message: "expected a JSON object {\"workload\": ..., \"settings\": ..., \"resources\": [...]}".into(),
            });
        }
        let b: Bundle<'a> = serde_json::from_str(json).map_err(|e| BundleError::Envelope {
            field: crate::json_path::path_at(json, &e),
            message: e.to_string(),
        })?;
        b.settings.validate()?;
        Ok(b)
    }
}

/// The workload the filter protects. In Envoy, fields left out are read from Istio's node
/// metadata (`NAMESPACE`, `SERVICE_ACCOUNT`, `LABELS`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Workload {
    /// Kubernetes namespace.
    pub namespace: Option<String>,
    /// Kubernetes service account.
    pub service_account: Option<String>,
    /// Pod labels.
    pub labels: Option<BTreeMap<String, String>>,
    /// Dapr app id.
    pub app_id: Option<String>,
    /// This workload's trust domain (default `cluster.local`).
    pub trust_domain: Option<String>,
    /// Named container ports (Linkerd `Server.spec.port` may name one).
    #[serde(default)]
    pub ports: BTreeMap<String, u16>,
    /// Pod annotations. Linkerd reads `config.linkerd.io/default-inbound-policy`,
    /// `config.linkerd.io/proxy-require-identity-inbound-ports` and
    /// `config.linkerd.io/opaque-ports`.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The pod's HTTP probes (the `httpGet` of its containers' liveness, readiness and startup
    /// probes): Linkerd admits them from `settings.linkerd.probeNetworks`.
    #[serde(default)]
    pub probes: Vec<Probe>,
}

/// One `httpGet` probe of the pod.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// The container port, by number or by name (`workload.ports`).
    pub port: ProbePort,
    /// The probe's path (default `/`).
    #[serde(default = "root_path")]
    pub path: String,
}

fn root_path() -> String {
    "/".into()
}

/// A probe's port: a number or a container port name.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum ProbePort {
    /// A port number.
    Number(u16),
    /// A named container port.
    Name(String),
}

impl Workload {
    /// Fills every field left out with the value from `defaults`.
    pub fn or(mut self, defaults: &Workload) -> Workload {
        self.namespace = self.namespace.or_else(|| defaults.namespace.clone());
        self.service_account = self.service_account.or_else(|| defaults.service_account.clone());
        self.labels = self.labels.or_else(|| defaults.labels.clone());
        self.app_id = self.app_id.or_else(|| defaults.app_id.clone());
        self.trust_domain = self.trust_domain.or_else(|| defaults.trust_domain.clone());
        for (k, v) in &defaults.ports {
            self.ports.entry(k.clone()).or_insert(*v);
        }
        for (k, v) in &defaults.annotations {
            self.annotations.entry(k.clone()).or_insert_with(|| v.clone());
        }
        if self.probes.is_empty() {
            self.probes = defaults.probes.clone();
        }
        self
    }

    /// The namespace, or empty when unknown.
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }

    /// The trust domain (default `cluster.local`).
    pub fn trust_domain(&self) -> &str {
        self.trust_domain.as_deref().unwrap_or("cluster.local")
    }

    /// The label value, if set.
    pub fn label(&self, k: &str) -> Option<&str> {
        self.labels.as_ref()?.get(k).map(String::as_str)
    }

    /// The workload as Istio's node metadata describes it, in the bytes the host gives:
    /// `NAMESPACE` and `SERVICE_ACCOUNT` as strings, `LABELS` as a map in Proxy-Wasm's pairs
    /// encoding. A field absent, empty or unreadable is left out.
    pub fn from_node_metadata(
        namespace: Option<Vec<u8>>,
        service_account: Option<Vec<u8>>,
        labels: Option<Vec<u8>>,
    ) -> Workload {
        let text = |b: Option<Vec<u8>>| b.and_then(|b| String::from_utf8(b).ok()).filter(|s| !s.is_empty());
        Workload {
            namespace: text(namespace),
            service_account: text(service_account),
            labels: labels
                .and_then(|b| decode_pairs(&b))
                .map(|pairs| pairs.into_iter().collect()),
            ..Workload::default()
        }
    }
}

/// `allow` or `deny`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DefaultAction {
    /// Forward.
    Allow,
    /// Refuse (the default: an empty bundle protects).
    #[default]
    Deny,
}

/// `enforce` or `dry-run`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Decisions are enforced.
    #[default]
    Enforce,
    /// Decisions are computed, logged and counted, never enforced.
    DryRun,
}

/// Which decisions the filter hands to Envoy's access log (filter state
/// `wasm.spiffe_authz.decision`, README "Envoy").
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AccessLog {
    /// Refusals only (the default): they also carry the decision in the local reply's response
    /// code details, at no cost.
    #[default]
    Denied,
    /// Allowed requests too: one more host call per allowed request.
    All,
}

/// Engine-wide settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Settings {
    /// Istio's root namespace: its policies apply mesh-wide.
    pub root_namespace: String,
    /// Other trust domains that name the same workloads (Istio `trustDomainAliases`).
    pub trust_domain_aliases: Vec<String>,
    /// The decision for a bundle with no resources.
    pub default_action: DefaultAction,
    /// `enforce` (default) or `dry-run` for the whole bundle.
    pub mode: Mode,
    /// `denied` (default) or `all`: which decisions Envoy's access log can print.
    pub access_log: AccessLog,
    /// Linkerd settings.
    pub linkerd: LinkerdSettings,
    /// Path canonicalization: what the filter refuses and what it forwards (safe defaults).
    pub path: PathSettings,
    /// Dapr settings.
    pub dapr: DaprSettings,
    /// Test-only fault injection. Exists only in a build with the `fault-injection` feature: a
    /// normal build refuses a bundle that sets it (unknown field).
    #[cfg(feature = "fault-injection")]
    pub testing: TestingSettings,
}

/// Faults to inject (`--features fault-injection` builds only), to prove the filter fails closed.
#[cfg(feature = "fault-injection")]
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct TestingSettings {
    /// Panic (a trap in the VM) when deciding a request whose canonical path is this.
    pub panic_on_path: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            root_namespace: "istio-system".into(),
            trust_domain_aliases: Vec::new(),
            default_action: DefaultAction::Deny,
            mode: Mode::Enforce,
            access_log: AccessLog::Denied,
            linkerd: LinkerdSettings::default(),
            path: PathSettings::default(),
            dapr: DaprSettings::default(),
            #[cfg(feature = "fault-injection")]
            testing: TestingSettings::default(),
        }
    }
}

/// Dapr settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct DaprSettings {
    /// The Configuration the workload's sidecar uses (its `dapr.io/config` annotation). Needed
    /// only when the bundle holds several Configurations in the workload's namespace.
    pub config: Option<String>,
}

impl Settings {
    fn validate(&self) -> Result<(), BundleError> {
        if self.path.max_length == 0 {
            return Err(BundleError::Envelope {
                field: "settings.path.maxLength".into(),
                message: "must be at least 1".into(),
            });
        }
        for (i, td) in self.trust_domain_aliases.iter().enumerate() {
            if td.is_empty() || td.contains('/') {
                return Err(BundleError::Envelope {
                    field: format!("settings.trustDomainAliases[{i}]"),
                    message: format!("{td:?} is not a trust domain"),
                });
            }
        }
        Ok(())
    }
}

/// Linkerd's cluster-wide settings (what `linkerd install` sets).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct LinkerdSettings {
    /// Policy for ports without a Server: `all-unauthenticated` (default), `all-authenticated`,
    /// `cluster-unauthenticated`, `cluster-authenticated`, `deny`, `audit`.
    pub default_inbound_policy: String,
    /// The cluster's networks, for the `cluster-*` default policies.
    pub cluster_networks: Vec<String>,
    /// The control plane's namespace, part of Linkerd's DNS-form identities.
    pub control_plane_namespace: String,
    /// Linkerd's proxy always permits clients on 127.0.0.1 / ::1 (a built-in
    /// `default:localhost` authorization). Default true, as in Linkerd; set false when clients
    /// reach this Envoy over loopback (a co-located front proxy, local tests).
    pub authorize_localhost: bool,
    /// Where kubelet probes come from: the policy controller's `--probe-networks` (the chart's
    /// `policyController.probeNetworks`, every address by default).
    pub probe_networks: Vec<String>,
}

impl Default for LinkerdSettings {
    fn default() -> Self {
        LinkerdSettings {
            default_inbound_policy: "all-unauthenticated".into(),
            cluster_networks: [
                "10.0.0.0/8",
                "100.64.0.0/10",
                "172.16.0.0/12",
                "192.168.0.0/16",
                "fd00::/8",
            ]
            .map(String::from)
            .to_vec(),
            control_plane_namespace: "linkerd".into(),
            authorize_localhost: true,
            probe_networks: vec!["0.0.0.0/0".into(), "::/0".into()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_metadata_fills_what_it_can_read() {
        let labels = crate::request::encode_pairs(&[(b"app", b"backend"), (b"version", b"v1")]);
        let w = Workload::from_node_metadata(Some(b"shop".to_vec()), Some(b"backend".to_vec()), Some(labels));
        assert_eq!(w.namespace(), "shop");
        assert_eq!(w.service_account.as_deref(), Some("backend"));
        assert_eq!(w.label("app"), Some("backend"));
        assert_eq!(w.label("version"), Some("v1"));
        // Empty, unreadable or missing: left out, so the bundle's or no value applies.
        let w = Workload::from_node_metadata(Some(Vec::new()), Some(vec![0xff]), Some(vec![1, 0, 0]));
        assert_eq!(w, Workload::default());
        assert_eq!(Workload::from_node_metadata(None, None, None), Workload::default());
    }
}
