//! `spec.accessControl.policies`, compiled while serde reads it (dapr/dapr `pkg/acl/acl.go`
//! `ParseAccessControlSpec`, the per-policy half).
//!
//! Why while reading: a Configuration may list 10,000 apps of 10 operations each. Held as wire
//! structs first, that list alone would take several times its JSON; here each policy is
//! compiled and dropped as soon as it is read, so only the compiled form accumulates.
//!
//! Why it stays small: apps commonly share the same operations, so identical operation lists
//! are compiled once ([`OpSet`]) and shared by index; all tries live in one [`Forest`]; actions,
//! trust domains and namespaces are interned. The lookups stay indexed: one hash probe by
//! (appId, namespace), then the trie walk.
//!
//! Dapr's validation findings are kept as data (warnings as `(field, message)`, the missing
//! fields) for [`super::acl::parse`] to report against the resource.

use std::borrow::{Borrow, Cow};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};

use super::acl::{action_warning, VERBS};
use super::fxhash::FxBuild;
use super::method::go_lower;
use super::trie::Forest;
use super::wire;

/// One operation (`config.AccessControlListOperationAction`).
#[derive(Debug)]
pub(super) struct Op {
    /// The name with the leading `/` Dapr adds.
    pub name: Box<str>,
    /// The action: for gRPC, and for HTTP through each listed verb (Dapr stores the same
    /// action under every verb of the operation).
    pub action: Arc<str>,
    /// The verbs listed, bit `i` for [`VERBS`]`[i]`, bit 9 for `*`. Verbs are compared
    /// case-sensitively, so any other text never matches and is not kept.
    verbs: u16,
}

const STAR: u16 = 1 << VERBS.len();

impl Op {
    /// Does `httpVerb` list `verb` (one of [`VERBS`], or `*`)?
    pub(super) fn lists(&self, verb: &str) -> bool {
        self.verbs & verb_bit(verb) != 0
    }
}

fn verb_bit(verb: &str) -> u16 {
    if verb == "*" {
        return STAR;
    }
    VERBS.iter().position(|v| *v == verb).map_or(0, |i| 1 << i)
}

/// The compiled operations of one or more app policies.
#[derive(Debug)]
pub(super) struct OpSet {
    pub ops: Box<[Op]>,
    /// Root in the forest of the trie of lowercased names (HTTP)...
    pub http: u32,
    /// ... and of the names as written (gRPC): the same trie when lowercasing changes none.
    pub grpc: u32,
    /// Operations whose (lowercased) name repeats an earlier one: Dapr keeps the first.
    dups: Box<[u32]>,
}

/// One app policy (`config.AccessControlListPolicySpec`).
#[derive(Debug)]
pub(super) struct Policy {
    /// Position in `spec.accessControl.policies`.
    pub index: usize,
    pub trust_domain: Arc<str>,
    /// Empty when not set.
    pub default_action: Arc<str>,
    /// Its operations, in [`Policies::sets`].
    pub set: u32,
}

/// Dapr's `appID||namespace` key, looked up by borrowed strings (see [`Pair`]).
#[derive(Debug)]
pub(super) struct AppNs {
    app: Box<str>,
    ns: Arc<str>,
}

/// (appId, namespace), owned or borrowed: lets the map be probed with two `&str` without
/// building a key.
trait Pair {
    fn pair(&self) -> (&str, &str);
}

impl Pair for AppNs {
    fn pair(&self) -> (&str, &str) {
        (&self.app, &self.ns)
    }
}

impl Pair for (&str, &str) {
    fn pair(&self) -> (&str, &str) {
        *self
    }
}

// The owned key hashes and compares exactly as its borrowed form does.
impl Hash for dyn Pair + '_ {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.pair().hash(h)
    }
}
impl PartialEq for dyn Pair + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.pair() == other.pair()
    }
}
impl Eq for dyn Pair + '_ {}
impl Hash for AppNs {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.pair().hash(h)
    }
}
impl PartialEq for AppNs {
    fn eq(&self, other: &Self) -> bool {
        self.pair() == other.pair()
    }
}
impl Eq for AppNs {}
impl<'a> Borrow<dyn Pair + 'a> for AppNs {
    fn borrow(&self) -> &(dyn Pair + 'a) {
        self
    }
}

/// A policy lacked a required field: Dapr refuses the whole spec.
#[derive(Debug, Default)]
pub(super) struct Missing {
    /// The first missing field (`spec.accessControl.policies[i].appId`...).
    pub first: Option<String>,
    pub trust_domain: Vec<String>,
    pub namespace: Vec<String>,
    pub app: bool,
}

/// `spec.accessControl.policies`, compiled.
#[derive(Debug, Default)]
pub(super) struct Policies {
    /// How many the list held.
    pub count: usize,
    pub policies: Vec<Policy>,
    pub sets: Vec<OpSet>,
    pub forest: Forest,
    /// (appId, namespace) → position in `policies`: the later policy replaces the earlier.
    by_app: HashMap<AppNs, u32, FxBuild>,
    /// `(field, message)`, in Dapr's order.
    pub warnings: Vec<(String, String)>,
    pub missing: Missing,
}

impl Policies {
    /// The caller's policy: Dapr's lookup by `appID||namespace`.
    pub(super) fn get(&self, app_id: &str, namespace: &str) -> Option<&Policy> {
        let i = *self.by_app.get(&(app_id, namespace) as &dyn Pair)?;
        self.policies.get(i as usize)
    }
}

/// What compiling needs only while reading.
#[derive(Default)]
struct Builder {
    out: Policies,
    /// [`ops_hash`] → the sets with that hash.
    set_ids: HashMap<u64, Vec<u32>, FxBuild>,
    strings: HashSet<Arc<str>, FxBuild>,
}

const AT: &str = "spec.accessControl";

/// An operation's name without the leading `/` (Dapr adds one when missing): how a wire
/// name and a compiled one are compared.
fn bare(name: &str) -> &str {
    name.strip_prefix('/').unwrap_or(name)
}

fn wire_verbs(o: &wire::Operation<'_>) -> u16 {
    o.http_verb.iter().flatten().fold(0, |acc, v| acc | verb_bit(v))
}

/// The hash of an operation list as compiled, computed from the wire form alone.
fn ops_hash(ops: &[wire::Operation<'_>]) -> u64 {
    let mut h = FxBuild::default().build_hasher();
    ops.len().hash(&mut h);
    for o in ops {
        bare(wire::text(&o.name)).hash(&mut h);
        wire::text(&o.action).hash(&mut h);
        wire_verbs(o).hash(&mut h);
    }
    h.finish()
}

/// Does `set` hold exactly the operations `ops` compile to?
fn same_ops(set: &[Op], ops: &[wire::Operation<'_>]) -> bool {
    set.len() == ops.len()
        && set.iter().zip(ops).all(|(a, o)| {
            bare(&a.name) == bare(wire::text(&o.name))
                && *a.action == *wire::text(&o.action)
                && a.verbs == wire_verbs(o)
        })
}

impl Builder {
    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.strings.get(s) {
            return a.clone();
        }
        let a: Arc<str> = s.into();
        self.strings.insert(a.clone());
        a
    }

    fn warn(&mut self, field: String, message: impl Into<String>) {
        self.out.warnings.push((field, message.into()));
    }

    fn add(&mut self, p: wire::AppPolicy<'_>) {
        let i = self.out.count;
        self.out.count += 1;
        let wire::AppPolicy {
            app_id,
            default_action,
            trust_domain,
            namespace,
            operations,
        } = p;
        let (app_id, trust_domain, namespace) =
            (wire::text(&app_id), wire::text(&trust_domain), wire::text(&namespace));
        let m = &mut self.out.missing;
        for (empty, field) in [
            (app_id.is_empty(), "appId"),
            (trust_domain.is_empty(), "trustDomain"),
            (namespace.is_empty(), "namespace"),
        ] {
            if empty && m.first.is_none() {
                m.first = Some(format!("{AT}.policies[{i}].{field}"));
            }
        }
        m.app |= app_id.is_empty();
        if trust_domain.is_empty() {
            m.trust_domain.push(app_id.to_string());
        }
        if namespace.is_empty() {
            m.namespace.push(app_id.to_string());
        }
        if m.first.is_some() {
            return;
        }
        let pat = format!("{AT}.policies[{i}]");
        let default_action = wire::text(&default_action);
        if let Some(w) = action_warning(default_action) {
            self.warn(format!("{pat}.defaultAction"), w);
        }
        if !valid_trust_domain(trust_domain) {
            self.warn(
                format!("{pat}.trustDomain"),
                format!(
                    "{trust_domain:?} is not a SPIFFE trust domain (lowercase letters, digits, '.', '-', '_'): \
                     no caller's certificate can carry it, and Dapr compares it verbatim, so this policy never applies"
                ),
            );
        }
        let operations = operations.unwrap_or_default();
        let set = self.set(&operations);
        self.op_warnings(&pat, &operations, set);
        let policy = Policy {
            index: i,
            trust_domain: self.intern(trust_domain),
            default_action: self.intern(default_action),
            set,
        };
        let key = AppNs {
            app: app_id.into(),
            ns: self.intern(namespace),
        };
        let pos = self.out.policies.len() as u32;
        if let Some(earlier) = self.out.by_app.insert(key, pos) {
            // Go map assignment: the later policy replaces the earlier one.
            let earlier = self.out.policies.get(earlier as usize).map_or(0, |p| p.index);
            self.warn(
                pat,
                format!("same appId and namespace as {AT}.policies[{earlier}]: Dapr keeps only this later one"),
            );
        }
        self.out.policies.push(policy);
    }

    fn op(&mut self, o: &wire::Operation<'_>) -> Op {
        let raw = wire::text(&o.name);
        // acl.go: "prepend "/" in case it is missing in the operation name".
        let name = if raw.starts_with('/') {
            raw.into()
        } else {
            format!("/{raw}").into()
        };
        Op {
            name,
            action: self.intern(wire::text(&o.action)),
            verbs: wire_verbs(o),
        }
    }

    /// The set compiled for `operations`: an earlier identical one, or a new one.
    fn set(&mut self, operations: &[wire::Operation<'_>]) -> u32 {
        let hash = ops_hash(operations);
        let sets = &self.out.sets;
        let known = self.set_ids.get(&hash).and_then(|ids| {
            ids.iter()
                .copied()
                .find(|&id| sets.get(id as usize).is_some_and(|s| same_ops(&s.ops, operations)))
        });
        if let Some(id) = known {
            return id;
        }
        let ops: Vec<Op> = operations.iter().map(|o| self.op(o)).collect();
        let f = &mut self.out.forest;
        let http = f.new_trie();
        let (mut dups, mut same) = (Vec::new(), true);
        for (j, op) in ops.iter().enumerate() {
            let lower = go_lower(&op.name);
            same &= *lower == *op.name;
            if !f.insert(http, &lower, j as u32) {
                dups.push(j as u32);
            }
        }
        let grpc = if same {
            http
        } else {
            let grpc = f.new_trie();
            for (j, op) in ops.iter().enumerate() {
                // A duplicate here is one for HTTP too, already noted.
                let _ = f.insert(grpc, &op.name, j as u32);
            }
            grpc
        };
        let id = self.out.sets.len() as u32;
        self.set_ids.entry(hash).or_default().push(id);
        self.out.sets.push(OpSet {
            ops: ops.into(),
            http,
            grpc,
            dups: dups.into(),
        });
        id
    }

    /// Each operation's warnings, in order (the field path is formatted only for a warning).
    fn op_warnings(&mut self, pat: &str, operations: &[wire::Operation<'_>], set: u32) {
        let dups = self
            .out
            .sets
            .get(set as usize)
            .map(|s| s.dups.clone())
            .unwrap_or_default();
        for (j, o) in operations.iter().enumerate() {
            let at = || format!("{pat}.operations[{j}]");
            let action = wire::text(&o.action);
            if action.is_empty() {
                self.warn(
                    format!("{}.action", at()),
                    "missing: when this operation decides, Dapr compares \"\" with allow and denies \
                     (the docs' \"allow (default)\" is not what acl.go does)",
                );
            }
            if let Some(w) = action_warning(action) {
                self.warn(format!("{}.action", at()), w);
            }
            let raw = wire::text(&o.name);
            let name: Cow<str> = if raw.starts_with('/') {
                Cow::Borrowed(raw)
            } else {
                Cow::Owned(format!("/{raw}"))
            };
            if name != "/"
                && (name.ends_with('/') || name.contains("//") || name.split('/').any(|s| s == "." || s == ".."))
            {
                self.warn(
                    format!("{}.name", at()),
                    format!("{name:?} can never match: Dapr cleans the request method (path.Clean) first"),
                );
            }
            let verbs = o.http_verb.as_deref().unwrap_or_default();
            if verbs.is_empty() {
                self.warn(
                    format!("{}.httpVerb", at()),
                    "empty: over HTTP this operation never decides (the app or global default does); only gRPC uses its action",
                );
            }
            for (k, v) in verbs.iter().enumerate() {
                if &**v != "*" && !VERBS.contains(&&**v) {
                    self.warn(
                        format!("{}.httpVerb[{k}]", at()),
                        format!(
                            "{:?} never matches: Dapr compares verbs case-sensitively with {}",
                            &**v,
                            VERBS.join(", ")
                        ),
                    );
                }
            }
            if dups.contains(&(j as u32)) {
                self.warn(
                    format!("{}.name", at()),
                    format!(
                        "{name:?} repeats an earlier operation (names are lowercased for HTTP): Dapr keeps the first"
                    ),
                );
            }
        }
    }
}

/// go-spiffe `isValidTrustDomainChar`: what a caller's SPIFFE ID can hold.
fn valid_trust_domain(td: &str) -> bool {
    td.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'))
}

impl<'de> Deserialize<'de> for Policies {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(PoliciesVisitor)
    }
}

struct PoliciesVisitor;

impl<'de> Visitor<'de> for PoliciesVisitor {
    type Value = Policies;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Policies, A::Error> {
        let mut b = Builder::default();
        while let Some(p) = seq.next_element::<wire::AppPolicy<'de>>()? {
            b.add(p);
        }
        let mut out = b.out;
        out.policies.shrink_to_fit();
        out.sets.shrink_to_fit();
        out.forest.shrink_to_fit();
        Ok(out)
    }
}
