//! spiffe-authz: service-to-service authorization by SPIFFE identity, decided in-process.
//!
//! The crate is a pure policy engine plus a thin Proxy-Wasm layer:
//!
//! ```text
//! bundle JSON ──parse──▶ dialect wire types ──lower──▶ model (Pred, HostSet, PathPattern, ...) ──compile──▶ Engine
//! request::incoming(engine.plan(), headers, host) ──▶ Request
//! Engine::evaluate(&Request) ──▶ Decision { verdict (effect, who decided, why), dry-run verdicts, headers }
//! ```
//!
//! The public face is small: [`Engine`] (load, [`Engine::evaluate`], [`Engine::explain`],
//! [`Engine::plan`]), [`Request`] and the [`request`] module (how the filter builds one from what
//! the host gives, path canonicalization), [`Decision`] and [`Verdict`], and [`compact`] (the
//! compressed form of a large bundle, which [`Engine::from_json`] expands). Inside, private:
//! `bundle.rs` and `resource.rs` (the envelope, each object routed to its dialect), `dialect/`
//! (one module per policy format, lowering its owner's objects into the shared `model/` and
//! deciding with its owner's combination rules), `eval.rs` (how layers combine, written once,
//! and the one way a layer decides), `filter/` (wasm32-wasip1 only: the only code that names
//! `proxy_wasm`).
//!
//! ```
//! use spiffe_authz::{Engine, Request, Peer};
//! let bundle = r#"{
//!   "workload": {"namespace": "payments", "serviceAccount": "payments", "labels": {"app": "payments"}},
//!   "resources": [{
//!     "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
//!     "metadata": {"name": "allow-orders", "namespace": "payments"},
//!     "spec": {"rules": [{"from": [{"source": {"principals": ["cluster.local/ns/orders/sa/default"]}}]}]}
//!   }]
//! }"#;
//! let engine = Engine::from_json(bundle.as_bytes(), &Default::default()).unwrap();
//! let mut req = Request::new("GET", "/pay");
//! req.peer = Peer::from_uri_san("spiffe://cluster.local/ns/orders/sa/default");
//! assert!(engine.evaluate(&req).allowed());
//! req.peer = Peer::from_uri_san("spiffe://cluster.local/ns/evil/sa/default");
//! assert!(!engine.evaluate(&req).allowed());
//! ```
// No unsafe code anywhere, except the Proxy-Wasm entry point in the wasm32-wasip1 build:
// `proxy_wasm::main!` expands to `#[no_mangle]` and an `unsafe` constructor call, so there
// the level is `deny` and src/filter/mod.rs allows it for that one macro (`forbid` cannot be
// lifted locally). Cargo.toml's [lints] is `deny` for the same reason.
#![cfg_attr(not(all(target_arch = "wasm32", target_os = "wasi")), forbid(unsafe_code))]
#![cfg_attr(all(target_arch = "wasm32", target_os = "wasi"), deny(unsafe_code))]
// The request path never panics: no unwrap, expect or panic in shipped code (tests may).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod bundle;
pub mod compact;
mod decision;
mod dialect;
mod engine;
mod error;
mod eval;
mod json_path;
mod model;
pub mod request;
mod resource;
mod spiffe;

#[cfg(all(target_arch = "wasm32", target_os = "wasi"))]
mod filter;

pub use bundle::{PathSettings, Settings, Workload};
pub use decision::{Decision, Effect, Explanation, Few, LayerExplanation, Reason, RuleRef, Verdict};
pub use dialect::dialect_of;
pub use engine::Engine;
pub use error::{BundleError, Warning};
pub use model::{Dialect, Meta};
pub use request::{Peer, Request};
pub use spiffe::SpiffeId;
