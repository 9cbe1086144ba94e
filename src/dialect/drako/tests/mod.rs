//! The Drako layer end to end through the engine: configuration errors (`config`) and decisions
//! (`decide`), in positive/negative pairs named alike.

mod config;
mod decide;

use serde_json::{json, Value};

use crate::request::{Peer, Request};
use crate::{Engine, Workload};

pub(super) const FOO: &str = "spiffe://cluster.local/ns/foo/sa/foo-client";
pub(super) const BAR: &str = "spiffe://cluster.local/ns/bar/sa/bar-client";

pub(super) fn obj(kind: &str, ns: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "woven-city.global/v1alpha1", "kind": kind,
           "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

pub(super) fn policy(name: &str, spec: Value) -> Value {
    obj("DrakoPolicy", "shop", name, spec)
}

/// A binding of namespace `shop` for `orders-sa`, authenticationMode None, SpiffeId clients,
/// unless `spec` says otherwise.
pub(super) fn binding(name: &str, spec: Value) -> Value {
    let mut s = json!({"destinationServiceAccounts": ["orders-sa"], "authenticationMode": "None",
                       "clientAuthenticationModes": ["SpiffeId"]});
    if let (Some(s), Value::Object(extra)) = (s.as_object_mut(), spec) {
        s.extend(extra);
    }
    obj("DrakoPolicyBinding", "shop", name, s)
}

pub(super) fn clients(ids: &[&str]) -> Value {
    let list: Vec<Value> = ids.iter().map(|v| json!({"type": "SpiffeId", "value": v})).collect();
    json!({"type": "ClientGroup", "spec": {"clientGroup": {"clientList": list}}})
}

pub(super) fn allow_all() -> Value {
    json!({"type": "AllowAll"})
}

pub(super) fn engine(resources: Vec<Value>) -> Result<Engine, String> {
    let b = json!({"workload": {"namespace": "shop", "serviceAccount": "orders-sa"}, "resources": resources});
    Engine::from_json(b.to_string().as_bytes(), &Workload::default()).map_err(|e| e.to_string())
}

pub(super) fn req(peer: Option<&str>, method: &str, path: &str) -> Request {
    let mut r = Request::new(method, path);
    if let Some(p) = peer {
        r.peer = Peer::from_uri_san(p);
    }
    r
}

pub(super) fn allowed(e: &Engine, r: &Request) -> bool {
    e.evaluate(r).allowed()
}

pub(super) fn simple(strategy: &str, policies: &[(&str, Value)]) -> Vec<Value> {
    let mut rs: Vec<Value> = policies.iter().map(|(n, s)| policy(n, s.clone())).collect();
    let names: Vec<&str> = policies.iter().map(|(n, _)| *n).collect();
    rs.push(binding("b", json!({"policies": names, "decisionStrategy": strategy})));
    rs
}
