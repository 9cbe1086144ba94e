//! A candidate index over a list of rules.
//!
//! Each rule is filed under the one request attribute (its peer principal, or its path) that
//! narrows it best; a request looks up its own principal and path and evaluates only the rules
//! found there, plus the few that no attribute narrows. The cost per request follows the number
//! of rules that could match, not the size of the bundle.
//!
//! Principals are filed by a 64-bit hash, not by the string: the rules' own predicates already
//! hold every principal, and an index holding them again would double the memory of a bundle of
//! 100,000 principals. A hash collision only adds a candidate, which its predicate then refuses.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use super::{PathMap, Pred};
use crate::request::Request;

/// Rule ids (positions in the list given to [`RuleIndex::build`]) filed for lookup.
#[derive(Clone, Debug, Default)]
pub struct RuleIndex {
    by_principal: HashMap<u64, Ids>,
    by_path: PathMap<u32>,
    always: Vec<u32>,
}

/// The rule ids filed under one key, ascending. Most principals name one rule: kept inline.
#[derive(Clone, Debug)]
enum Ids {
    One(u32),
    Many(Vec<u32>),
}

impl Ids {
    fn push(&mut self, id: u32) {
        match self {
            Ids::One(first) => *self = Ids::Many(vec![*first, id]),
            Ids::Many(v) => v.push(id),
        }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            Ids::One(id) => std::slice::from_ref(id),
            Ids::Many(v) => v,
        }
    }
}

/// The key a principal is filed under. SipHash with fixed keys: the same at build and lookup,
/// and a client cannot choose which principals its certificate collides with cheaply enough to
/// matter (a collision costs one extra predicate test).
fn principal_key(p: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    p.hash(&mut h);
    h.finish()
}

/// A rule's possible filings: by principals, by path patterns.
type Keys<'a> = (Option<Vec<&'a str>>, Option<Vec<&'a super::PathPattern>>);

enum Filing<'a> {
    Principal(Vec<&'a str>),
    Path(Vec<&'a super::PathPattern>),
    Always,
}

/// How many rules name each key, to weigh a filing by the size of the buckets it joins.
enum Load<K> {
    /// At most one rule has keys of this kind: every bucket holds that rule alone. The common
    /// case of a large bundle (one rule of 100,000 principals) needs no count, and no map as
    /// large as the rule held next to it while the index is built.
    Single,
    Counted(HashMap<K, usize>),
}

impl<K: Eq + Hash + Copy> Load<K> {
    fn count<'k>(rules: impl Iterator<Item = Option<&'k [K]>> + Clone) -> Load<K>
    where
        K: 'k,
    {
        let keyed = rules.clone().flatten();
        if keyed.clone().nth(1).is_none() {
            return Load::Single;
        }
        let mut load = HashMap::with_capacity(keyed.clone().map(<[K]>::len).sum());
        keyed.flatten().for_each(|k| *load.entry(*k).or_default() += 1);
        Load::Counted(load)
    }

    /// The rule's candidates summed over its keys' buckets.
    fn cost(&self, keys: &[K]) -> usize {
        match self {
            Load::Single => keys.len(),
            Load::Counted(load) => keys.iter().map(|k| load.get(k).copied().unwrap_or(0)).sum(),
        }
    }
}

impl RuleIndex {
    /// Files every rule. A rule is filed by principal or by path, whichever puts it in smaller
    /// buckets; rules that neither narrows are evaluated for every request.
    pub fn build<'a>(preds: impl IntoIterator<Item = &'a Pred>) -> RuleIndex {
        let filings: Vec<Keys<'_>> = preds.into_iter().map(|p| (p.principal_keys(), p.path_keys())).collect();
        let principal_load = Load::count(filings.iter().map(|(pk, _)| pk.as_deref()));
        let path_load = Load::count(filings.iter().map(|(_, tk)| tk.as_deref()));
        let mut idx = RuleIndex::default();
        for (id, (pk, tk)) in filings.into_iter().enumerate() {
            let id = id as u32;
            let cost_p = pk.as_deref().map(|ks| principal_load.cost(ks));
            let cost_t = tk.as_deref().map(|ks| path_load.cost(ks));
            let filing = match (pk, tk) {
                (Some(p), Some(t)) => {
                    if cost_t < cost_p {
                        Filing::Path(t)
                    } else {
                        Filing::Principal(p)
                    }
                }
                (Some(p), None) => Filing::Principal(p),
                (None, Some(t)) => Filing::Path(t),
                (None, None) => Filing::Always,
            };
            match filing {
                Filing::Principal(keys) => {
                    for k in keys {
                        match idx.by_principal.entry(principal_key(k)) {
                            std::collections::hash_map::Entry::Occupied(mut e) => {
                                // A rule listing a principal twice is filed once.
                                if e.get().as_slice().last() != Some(&id) {
                                    e.get_mut().push(id);
                                }
                            }
                            std::collections::hash_map::Entry::Vacant(e) => {
                                e.insert(Ids::One(id));
                            }
                        }
                    }
                }
                Filing::Path(keys) => keys.into_iter().for_each(|k| idx.by_path.insert(k, id)),
                Filing::Always => idx.always.push(id),
            }
        }
        idx
    }

    /// The lowest rule id that may match `req` and passes `test` (bundle order: the first rule
    /// that matches). Allocates nothing; `test` runs only on candidates below the best so far.
    pub fn first_match(&self, req: &Request, mut test: impl FnMut(u32) -> bool) -> Option<u32> {
        let mut best: Option<u32> = None;
        // Buckets hold ids in ascending order, so a bucket's first passing id is its lowest.
        let mut scan = |ids: &[u32], best: &mut Option<u32>| {
            for &id in ids {
                if best.is_some_and(|b| id >= b) {
                    break;
                }
                if test(id) {
                    *best = Some(id);
                    break;
                }
            }
        };
        scan(&self.always, &mut best);
        // Hashing the peer costs as much as the rest of a lookup: not when no rule is filed by it.
        if let Some(peer) = req.peer.id().filter(|_| !self.by_principal.is_empty()) {
            if let Some(ids) = self.by_principal.get(&principal_key(peer.as_str())) {
                scan(ids.as_slice(), &mut best);
            }
        }
        self.by_path
            .for_each_match(&req.path, |&id| scan(std::slice::from_ref(&id), &mut best));
        best
    }
}

#[cfg(test)]
#[path = "index_tests.rs"]
mod tests;
