//! The Linkerd layer end to end through the engine: one table per rule, positive and negative
//! cases named alike. Shared builders here; the tables in `servers`, `authz`, `routes`.

mod authz;
mod routes;
mod servers;

use serde_json::{json, Value};

use crate::decision::Effect;
use crate::error::BundleError;
use crate::{Engine, Peer, Request, Workload};

const NS: &str = "emojivoto";
const WEB: &str = "spiffe://cluster.local/ns/emojivoto/sa/web";
const BOT: &str = "spiffe://cluster.local/ns/emojivoto/sa/vote-bot";
const POD_IP: &str = "10.42.0.7";

fn server(name: &str, port: Value, proto: &str, extra: Value) -> Value {
    let mut spec = json!({"podSelector": {"matchLabels": {"app": "voting-svc"}}, "port": port, "proxyProtocol": proto});
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    json!({"apiVersion": "policy.linkerd.io/v1beta3", "kind": "Server",
           "metadata": {"name": name, "namespace": NS, "labels": {"app": "voting-svc", "tier": "backend"}},
           "spec": spec})
}

fn obj(kind: &str, name: &str, spec: Value) -> Value {
    let api = match kind {
        "ServerAuthorization" => "policy.linkerd.io/v1beta1",
        "GRPCRoute" => "gateway.networking.k8s.io/v1",
        "HTTPRoute" => "policy.linkerd.io/v1beta3",
        _ => "policy.linkerd.io/v1alpha1",
    };
    json!({"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": NS}, "spec": spec})
}

fn saz(name: &str, client: Value) -> Value {
    obj(
        "ServerAuthorization",
        name,
        json!({"server": {"name": "voting"}, "client": client}),
    )
}

fn load(resources: Vec<Value>, settings: Value) -> Result<Engine, BundleError> {
    let b = json!({
        "workload": {"namespace": NS, "serviceAccount": "voting", "labels": {"app": "voting-svc"},
                     "ports": {"grpc": 8080, "http": 8081}},
        "settings": settings,
        "resources": resources,
    });
    Engine::from_json(b.to_string().as_bytes(), &Workload::default())
}

fn engine(resources: Vec<Value>) -> Engine {
    load(resources, json!({})).unwrap_or_else(|e| panic!("{e}"))
}

fn refused(resources: Vec<Value>) -> String {
    load(resources, json!({}))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

struct Req<'a> {
    peer: Option<&'a str>,
    method: &'a str,
    path: &'a str,
    port: Option<u16>,
    ip: Option<&'a str>,
}

fn r(peer: Option<&str>, port: u16) -> Req<'_> {
    Req {
        peer,
        method: "GET",
        path: "/",
        port: Some(port),
        ip: Some(POD_IP),
    }
}

impl Req<'_> {
    fn build(&self) -> Request {
        let mut q = Request::new(self.method, self.path);
        q.peer = self.peer.map_or(Peer::Unauthenticated, Peer::from_uri_san);
        q.port = self.port;
        q.source_ip = self.ip.map(|i| i.parse().unwrap());
        q
    }
}

/// (effect, deciding resource, dry-run effects).
fn decide(e: &Engine, q: &Req<'_>) -> (Effect, Option<String>, Vec<Effect>) {
    let req_ = q.build();
    let d = e.evaluate(&req_);
    (
        d.verdict.effect,
        d.verdict.by().map(|b| b.meta.to_string()),
        d.dry_run.iter().map(|v| v.effect).collect(),
    )
}

fn effect(e: &Engine, q: &Req<'_>) -> Effect {
    decide(e, q).0
}

fn policy(name: &str, target: Value, refs: Value) -> Value {
    obj(
        "AuthorizationPolicy",
        name,
        json!({"targetRef": target, "requiredAuthenticationRefs": refs}),
    )
}

fn mtls(name: &str, spec: Value) -> Value {
    obj("MeshTLSAuthentication", name, spec)
}

fn nets(name: &str, cidr: &str) -> Value {
    obj("NetworkAuthentication", name, json!({"networks": [{"cidr": cidr}]}))
}

fn to_server() -> Value {
    json!({"group": "policy.linkerd.io", "kind": "Server", "name": "voting"})
}

fn mtls_ref(n: &str) -> Value {
    json!({"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication", "name": n})
}

fn net_ref(n: &str) -> Value {
    json!({"group": "policy.linkerd.io", "kind": "NetworkAuthentication", "name": n})
}
