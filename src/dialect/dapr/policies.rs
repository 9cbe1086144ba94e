//! `spec.accessControl.policies`, compiled while serde reads it (dapr/dapr `pkg/acl/acl.go`
//! `ParseAccessControlSpec`, the per-policy half).
//!
//! Why while reading: a Configuration may list 10,000 apps of 10 operations each. Held as wire
//! structs first, that list alone would take several times its JSON; here each policy is
//! compiled and dropped as soon as it is read (its strings borrowed from the bundle), so only
//! the compiled form accumulates.
//!
//! Why it stays small: apps commonly share the same operations, so identical operation lists
//! are compiled once ([`OpSet`]) and shared by index; all tries live in one [`Forest`];
//! operation texts live in one arena; trust domains, actions and namespaces are interned. The
//! lookups stay indexed: one hash probe by (appId, namespace), then the trie walk.
//!
//! Dapr's validation findings are kept as data (warnings as `(field, message)`, the missing
//! fields) for `acl::parse` to report against the resource.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};

use super::fxhash::FxBuild;
use super::key::{AppNs, Pair};
use super::lint;
use super::method::go_lower;
use super::ops::{verb_bit, Op, OpRef, OpSet, Span, Texts};
use super::trie::Forest;
use super::wire;

/// One app policy (`config.AccessControlListPolicySpec`).
#[derive(Debug)]
pub(super) struct Policy {
    /// Position in `spec.accessControl.policies`.
    pub index: usize,
    pub trust_domain: Arc<str>,
    /// Empty when not set.
    pub default_action: Arc<str>,
    /// Its operations, in `Policies::sets`.
    set: u32,
}

/// A required field left out, by the rule that requires it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum MissingField {
    /// acl.go requires `appId`, `trustDomain` and `namespace` of every policy.
    Acl(String),
    /// The Configuration CRD requires `name` and `action` of every operation.
    Crd(String),
}

/// A policy lacked a required field: Dapr refuses the whole spec.
#[derive(Debug, Default)]
pub(super) struct Missing {
    /// The first missing field (`spec.accessControl.policies[i].appId`...).
    pub first: Option<MissingField>,
    pub trust_domain: Vec<String>,
    pub namespace: Vec<String>,
    pub app: bool,
}

/// `spec.accessControl.policies`, compiled.
#[derive(Debug, Default)]
pub(super) struct Policies {
    /// How many the list held.
    pub count: usize,
    policies: Vec<Policy>,
    sets: Vec<OpSet>,
    forest: Forest,
    texts: Texts,
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

    /// The operation of `p` Dapr matches for the method `op` (lowercased for HTTP), with its
    /// index in the policy's `operations`.
    pub(super) fn search(&self, p: &Policy, grpc: bool, op: &str) -> Option<(u32, OpRef<'_>)> {
        let set = self.sets.get(p.set as usize)?;
        let root = if grpc { set.grpc } else { set.http };
        let j = self.forest.search(root, op)?;
        Some((j, OpRef::new(set.ops.get(j as usize)?, &self.texts)))
    }
}

/// What compiling needs only while reading.
#[derive(Default)]
struct Builder {
    out: Policies,
    /// [`ops_hash`] → the first set with that hash (a list that collides with another is
    /// simply compiled again).
    set_ids: HashMap<u64, u32, FxBuild>,
    strings: HashSet<Arc<str>, FxBuild>,
    /// Action text → its span in the arena.
    actions: HashMap<Box<str>, Span, FxBuild>,
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

/// An operation's three fields, named (a field added to the wire type breaks the build here,
/// where operations are compiled, compared and hashed): name, action, verbs.
fn parts<'o>(o: &'o wire::Operation<'_>) -> (&'o str, &'o str, u16) {
    let wire::Operation {
        name,
        http_verb: _,
        action,
    } = o;
    (wire::text(name), wire::text(action), wire_verbs(o))
}

/// The hash of an operation list as compiled, computed from the wire form alone.
fn ops_hash(ops: &[wire::Operation<'_>]) -> u64 {
    let mut h = FxBuild::default().build_hasher();
    ops.len().hash(&mut h);
    for o in ops {
        let (name, action, verbs) = parts(o);
        bare(name).hash(&mut h);
        action.hash(&mut h);
        verbs.hash(&mut h);
    }
    h.finish()
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
                m.first = Some(MissingField::Acl(format!("{AT}.policies[{i}].{field}")));
            }
        }
        if m.first.is_none() {
            let ops = operations.iter().flatten().enumerate();
            m.first = ops
                .flat_map(|(j, o)| [(j, "name", &o.name), (j, "action", &o.action)])
                .find(|(_, _, v)| v.is_none())
                .map(|(j, field, _)| MissingField::Crd(format!("{AT}.policies[{i}].operations[{j}].{field}")));
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
        lint::policy(&pat, default_action, trust_domain, &mut self.out.warnings);
        let operations = operations.unwrap_or_default();
        let set = self.set(&operations);
        let dups = self.out.sets.get(set as usize).map(|s| &*s.dups).unwrap_or_default();
        lint::operations(&pat, &operations, dups, &mut self.out.warnings);
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
            self.out.warnings.push((
                pat,
                format!("same appId and namespace as {AT}.policies[{earlier}]: Dapr keeps only this later one"),
            ));
        }
        self.out.policies.push(policy);
    }

    /// Does set `id` hold exactly the operations `ops` compile to?
    fn same_ops(&self, id: u32, ops: &[wire::Operation<'_>]) -> bool {
        let (Some(set), t) = (self.out.sets.get(id as usize), &self.out.texts) else {
            return false;
        };
        set.ops.len() == ops.len()
            && set.ops.iter().zip(ops).all(|(a, o)| {
                let (name, action, verbs) = parts(o);
                bare(t.get(a.name)) == bare(name) && t.get(a.action) == action && a.verbs == verbs
            })
    }

    fn op(&mut self, o: &wire::Operation<'_>) -> Op {
        let (raw, action, verbs) = parts(o);
        // acl.go: "prepend "/" in case it is missing in the operation name".
        let slash = if raw.starts_with('/') { "" } else { "/" };
        let name = self.out.texts.push(&[slash, raw]);
        let action = match self.actions.get(action) {
            Some(&s) => s,
            None => {
                let s = self.out.texts.push(&[action]);
                self.actions.insert(action.into(), s);
                s
            }
        };
        Op { name, action, verbs }
    }

    /// The set compiled for `operations`: an earlier identical one, or a new one.
    fn set(&mut self, operations: &[wire::Operation<'_>]) -> u32 {
        let hash = ops_hash(operations);
        if let Some(&id) = self.set_ids.get(&hash) {
            if self.same_ops(id, operations) {
                return id;
            }
        }
        let ops: Vec<Op> = operations.iter().map(|o| self.op(o)).collect();
        let (f, t) = (&mut self.out.forest, &self.out.texts);
        let http = f.new_trie();
        let (mut dups, mut same) = (Vec::new(), true);
        for (j, op) in ops.iter().enumerate() {
            let name = t.get(op.name);
            let lower = go_lower(name);
            same &= lower == name;
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
                let _ = f.insert(grpc, t.get(op.name), j as u32);
            }
            grpc
        };
        let id = self.out.sets.len() as u32;
        self.set_ids.entry(hash).or_insert(id);
        self.out.sets.push(OpSet {
            ops: ops.into(),
            http,
            grpc,
            dups: dups.into(),
        });
        id
    }
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
        out.texts.shrink_to_fit();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policies(json: &str) -> Policies {
        serde_json::from_str(json).unwrap()
    }

    fn app(id: &str, ops: &str) -> String {
        format!(r#"{{"appId": "{id}", "trustDomain": "public", "namespace": "default", "operations": [{ops}]}}"#)
    }

    /// (app, method) → (operation index, action, lists GET?)
    fn decide<'p>(p: &'p Policies, app: &str, method: &str) -> Option<(u32, &'p str, bool)> {
        let pol = p.get(app, "default")?;
        p.search(pol, false, method)
            .map(|(j, op)| (j, op.action, op.lists("GET")))
    }

    const OP1: &str = r#"{"name": "/op1", "httpVerb": ["GET"], "action": "allow"}"#;

    #[test]
    fn identical_operation_lists_are_compiled_once() {
        let same = [app("a", OP1), app("b", OP1), app("c", &OP1.replace("/op1", "op1"))].join(",");
        let p = policies(&format!("[{same}]"));
        assert_eq!((p.count, p.sets.len()), (3, 1));
        for id in ["a", "b", "c"] {
            assert_eq!(decide(&p, id, "/op1"), Some((0, "allow", true)), "{id}");
        }
    }

    #[test]
    fn lists_differing_in_any_field_are_not_shared() {
        let list = [
            app("a", OP1),
            app("b", &OP1.replace("allow", "deny")),
            app("c", &OP1.replace("GET", "POST")),
            app("d", &OP1.replace("/op1", "/op2")),
            app("e", &format!("{OP1}, {OP1}")),
        ]
        .join(",");
        let p = policies(&format!("[{list}]"));
        assert_eq!(p.sets.len(), 5);
        assert_eq!(decide(&p, "a", "/op1"), Some((0, "allow", true)));
        assert_eq!(decide(&p, "b", "/op1"), Some((0, "deny", true)));
        assert_eq!(decide(&p, "c", "/op1"), Some((0, "allow", false)));
        assert_eq!(decide(&p, "d", "/op1"), None);
        assert_eq!(decide(&p, "e", "/op1"), Some((0, "allow", true)));
        assert_eq!(decide(&p, "x", "/op1"), None);
    }

    #[test]
    fn a_shared_set_still_warns_for_each_policy() {
        let dup = format!("{OP1}, {}", OP1.replace("/op1", "/OP1"));
        let p = policies(&format!("[{}, {}]", app("a", &dup), app("b", &dup)));
        assert_eq!(p.sets.len(), 1);
        let fields: Vec<&str> = p.warnings.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.accessControl.policies[0].operations[1].name",
                "spec.accessControl.policies[1].operations[1].name"
            ]
        );
        // gRPC names are case-sensitive: its own trie, where `/OP1` is found.
        let pol = p.get("b", "default").unwrap();
        assert_eq!(p.search(pol, true, "/OP1").map(|(j, _)| j), Some(1));
        assert_eq!(p.search(pol, false, "/op1").map(|(j, _)| j), Some(0));
    }
}
