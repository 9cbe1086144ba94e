//! The requests `diff` asks both bundles about: built from what the bundles mention (identities,
//! paths, methods, hosts, ports, addresses, headers) and the edges around each value (a prefix
//! and one character or segment beyond it, the parent path, another service account of the same
//! namespace, another namespace, no certificate...).
//!
//! Values are gathered by reading the resources' JSON, not by interpreting it: which request a
//! rule matches is left to the engine, which decides every probe (see diff.rs). A value in an
//! unexpected place only adds a probe.

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde_json::Value;

/// Everything a set of bundles mentions, as concrete request attributes.
#[derive(Debug, Default)]
pub struct Mentioned {
    pub identities: BTreeSet<String>,
    pub namespaces: BTreeSet<String>,
    pub paths: BTreeSet<String>,
    pub methods: BTreeSet<String>,
    pub hosts: BTreeSet<String>,
    pub ports: BTreeSet<u16>,
    pub ips: BTreeSet<IpAddr>,
    pub headers: BTreeSet<(String, String)>,
    trust_domain: String,
    linkerd: bool,
}

impl Mentioned {
    /// Reads one bundle (its JSON value); call once per bundle.
    pub fn add_bundle(&mut self, bundle: &Value) {
        let td = bundle["workload"]["trustDomain"].as_str().unwrap_or("cluster.local");
        if self.trust_domain.is_empty() {
            self.trust_domain = td.to_string();
        }
        let wl_ns = bundle["workload"]["namespace"].as_str().unwrap_or("default");
        for port in bundle["workload"]["ports"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            self.port(port);
        }
        self.walk(&bundle["settings"], "", wl_ns);
        for r in bundle["resources"].as_array().into_iter().flatten() {
            let ns = r["metadata"]["namespace"].as_str().unwrap_or(wl_ns);
            self.linkerd |= r["apiVersion"].as_str().is_some_and(|v| v.contains("linkerd.io"));
            self.namespaces.insert(ns.to_string());
            self.walk(&r["spec"], "", ns);
        }
    }

    fn walk(&mut self, v: &Value, key: &str, ns: &str) {
        match v {
            Value::Object(m) => {
                self.object(m, key, ns);
                for (k, child) in m {
                    self.walk(child, k, ns);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| self.walk(i, key, ns)),
            Value::String(s) => self.string(s, key, ns),
            Value::Number(_) if matches!(key, "ports" | "notPorts" | "port") => self.port(v),
            _ => {}
        }
    }

    /// Objects that name an identity by parts (Drako Source, Linkerd serviceAccounts and
    /// identityRefs, Dapr app policies), and header matches.
    fn object(&mut self, m: &serde_json::Map<String, Value>, key: &str, ns: &str) {
        let s = |k: &str| m.get(k).and_then(Value::as_str);
        let td = s("trustDomain").unwrap_or(&self.trust_domain).to_string();
        if let (Some(app), Some(app_ns)) = (s("appId"), s("namespace")) {
            self.identity(format!("spiffe://{td}/ns/{app_ns}/{app}"));
            self.identity(format!("spiffe://{td}/ns/{app_ns}/zz-unlisted-app"));
        }
        let sa = s("serviceAccount").or(if matches!(key, "serviceAccounts" | "identityRefs") {
            s("name")
        } else {
            None
        });
        if let Some(sa) = sa.filter(|sa| *sa != "*") {
            let sa_ns = s("namespace").unwrap_or(ns);
            self.identity(format!("spiffe://{td}/ns/{sa_ns}/sa/{sa}"));
        }
        if let (Some(k), Some(values)) = (s("key"), m.get("values").or(m.get("notValues"))) {
            if let Some(name) = k.strip_prefix("request.headers[").and_then(|r| r.strip_suffix(']')) {
                for v in values.as_array().into_iter().flatten().filter_map(Value::as_str) {
                    self.headers.insert((name.to_ascii_lowercase(), fill(v)));
                }
            }
        }
        if key == "headers" {
            if let (Some(name), Some(value)) = (s("name"), s("value")) {
                self.headers.insert((name.to_ascii_lowercase(), value.to_string()));
            }
        }
    }

    fn string(&mut self, s: &str, key: &str, ns: &str) {
        if s.starts_with("spiffe://") {
            self.identity(fill(s));
        } else if s.starts_with('/') {
            self.paths.insert(s.to_string());
        } else if let Ok(ip) = s.split('/').next().unwrap_or(s).parse::<IpAddr>() {
            self.ips.insert(ip);
            if let Some(after) = cidr_end(s).and_then(next_ip) {
                self.ips.insert(after);
            }
        }
        match key {
            "principals" | "notPrincipals" if s != "*" => self.identity(format!("spiffe://{}", fill(s))),
            "namespaces" | "notNamespaces" if s != "*" => {
                let n = fill(s);
                self.identity(format!("spiffe://{}/ns/{n}/sa/default", self.trust_domain));
                self.namespaces.insert(n);
            }
            "serviceAccounts" | "notServiceAccounts" => {
                let (sa_ns, sa) = s.split_once('/').unwrap_or((ns, s));
                self.identity(format!("spiffe://{}/ns/{sa_ns}/sa/{}", self.trust_domain, fill(sa)));
            }
            "identities" => {
                if let Some(id) = crate::principal::linkerd_identity(&fill(s)) {
                    self.identity(id);
                }
            }
            "methods" | "notMethods" | "method" | "httpVerb" if s != "*" => {
                self.methods.insert(s.to_string());
            }
            "hosts" | "notHosts" | "hostnames" | "host" if s != "*" => {
                self.hosts
                    .insert(fill(s.split(':').next().unwrap_or(s)).to_ascii_lowercase());
            }
            "ports" | "notPorts" | "port" => self.port(&Value::String(s.to_string())),
            _ => {}
        }
    }

    fn identity(&mut self, uri: String) {
        if let Some(ns) = uri.split("/ns/").nth(1).and_then(|r| r.split('/').next()) {
            self.namespaces.insert(ns.to_string());
        }
        self.identities.insert(uri);
    }

    fn port(&mut self, v: &Value) {
        let n = v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
        if let Some(p) = n.and_then(|n| u16::try_from(n).ok()) {
            self.ports.insert(p);
        }
    }

    /// The identities to probe: those mentioned, another service account in each namespace
    /// mentioned, a namespace never mentioned, and (`None`) no certificate.
    pub fn identity_probes(&self) -> Vec<Option<String>> {
        let td = &self.trust_domain;
        let mut out: BTreeSet<String> = self.identities.clone();
        for ns in &self.namespaces {
            out.insert(format!("spiffe://{td}/ns/{ns}/sa/zz-unlisted"));
        }
        out.insert(format!("spiffe://{td}/ns/zz-other-namespace/sa/default"));
        std::iter::once(None).chain(out.into_iter().map(Some)).collect()
    }

    /// Each path mentioned, made concrete, with its edges.
    pub fn path_probes(&self) -> Vec<String> {
        let mut out = BTreeSet::from(["/".to_string()]);
        for p in &self.paths {
            for e in path_edges(p) {
                out.insert(e);
            }
        }
        out.into_iter().collect()
    }

    /// The methods mentioned, plus GET and POST.
    pub fn method_probes(&self) -> Vec<String> {
        let mut out = self.methods.clone();
        out.extend(["GET".to_string(), "POST".to_string()]);
        out.into_iter().collect()
    }

    /// No host, each host mentioned, and one never mentioned.
    pub fn host_probes(&self) -> Vec<String> {
        let mut out = vec![String::new()];
        if !self.hosts.is_empty() {
            out.extend(self.hosts.iter().cloned());
            out.push("zz-other.example".into());
        }
        out
    }

    /// No port, each port mentioned, and one never mentioned.
    pub fn port_probes(&self) -> Vec<Option<u16>> {
        let mut out = vec![None];
        if !self.ports.is_empty() {
            out.extend(self.ports.iter().map(|p| Some(*p)));
            out.extend(
                [8080, 8443, 9999]
                    .into_iter()
                    .find(|p| !self.ports.contains(p))
                    .map(Some),
            );
        }
        out
    }

    /// No address, each address mentioned (and the one past each block), and an outsider;
    /// Linkerd's cluster networks and loopback when a Linkerd resource is present.
    pub fn ip_probes(&self) -> Vec<Option<IpAddr>> {
        let mut set = self.ips.clone();
        if !set.is_empty() || self.linkerd {
            set.extend(
                ["198.51.100.77", "10.1.2.3"]
                    .iter()
                    .filter_map(|s| s.parse::<IpAddr>().ok()),
            );
        }
        if self.linkerd {
            set.extend("127.0.0.1".parse::<IpAddr>().ok());
        }
        std::iter::once(None).chain(set.into_iter().map(Some)).collect()
    }

    /// No header, and each header value mentioned.
    pub fn header_probes(&self) -> Vec<Option<(String, String)>> {
        std::iter::once(None)
            .chain(self.headers.iter().cloned().map(Some))
            .collect()
    }
}

/// A pattern's wildcards filled with a concrete segment.
fn fill(s: &str) -> String {
    s.replace("{**}", "zz/zz")
        .replace("{*}", "zz")
        .replace("**", "zz/zz")
        .replace('*', "zz")
}

/// A path pattern (Istio `/a*`, `*/x`, `{*}`; Drako `:`/`+`; Dapr `**`; Linkerd prefixes) made
/// concrete, with its neighbours: the parent, a trailing slash, a segment more, one character
/// more, and the prefix without its slash.
pub fn path_edges(pattern: &str) -> Vec<String> {
    let concrete: String = pattern
        .split('/')
        .map(|seg| match seg {
            ":" | "+" => "zz".to_string(),
            s if s.starts_with(':') => "zz".to_string(),
            s => fill(s),
        })
        .collect::<Vec<_>>()
        .join("/");
    let trimmed = pattern.trim_end_matches('*');
    let base = concrete.trim_end_matches('/');
    let mut out = vec![
        concrete.clone(),
        format!("{base}/"),
        format!("{base}/zz"),
        format!("{base}zz"),
    ];
    if trimmed != pattern {
        // A prefix: the prefix itself, and without its last character.
        let bare = trimmed.trim_end_matches('/');
        out.extend([trimmed.to_string(), bare.to_string(), format!("{bare}zz")]);
    }
    if let Some(i) = base.rfind('/') {
        out.push(if i == 0 { "/".into() } else { base[..i].to_string() });
    }
    out.retain(|p| p.starts_with('/'));
    out
}

/// `203.0.113.0/24` → `203.0.113.255`.
fn cidr_end(s: &str) -> Option<IpAddr> {
    let (ip, len) = s.split_once('/')?;
    let len: u32 = len.parse().ok()?;
    match ip.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) if len <= 32 => {
            let host = u32::MAX.checked_shr(len).unwrap_or(0);
            Some(IpAddr::V4((u32::from(v4) | host).into()))
        }
        IpAddr::V6(v6) if len <= 128 => {
            let host = u128::MAX.checked_shr(len).unwrap_or(0);
            Some(IpAddr::V6((u128::from(v6) | host).into()))
        }
        _ => None,
    }
}

fn next_ip(ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(v4) => u32::from(v4).checked_add(1).map(|n| IpAddr::V4(n.into())),
        IpAddr::V6(v6) => u128::from(v6).checked_add(1).map(|n| IpAddr::V6(n.into())),
    }
}

#[cfg(test)]
#[path = "probes_tests.rs"]
mod tests;
