//! Dapr's operation trie (dapr/dapr `pkg/config/acl_trie.go`), reproduced decision for decision.
//!
//! Each node is one path segment *with its leading slash* (`/op1`, `/*`, `/**`, `/get*`), and
//! its children are kept in insertion order. The semantics are Dapr's, not "most specific":
//!
//! * **Insertion** (`PutOperationAction`) walks the segments, reusing a child only when its
//!   text is *identical*; the operation is stored on the last node unless that node already
//!   holds one: the first operation of a given name wins.
//! * **Lookup** (`Search`) walks the request's segments. At each step the chosen child is the
//!   *first in insertion order* that matches (`findNodeWithWildcard`): the same text, or `/*`
//!   (only at the last segment: elsewhere it is skipped), or `/**`, or a glob (`*` inside the
//!   segment matches any run of bytes, even empty). There is no backtracking: once a child is
//!   chosen, a sibling that would have led to a match is never tried.
//! * A node that holds an operation answers at once, even when the request has more segments
//!   ("a plain operation matches longer paths below it": `/op1` matches `/op1/a/b`), except a
//!   `/*` node before the last segment, which keeps walking.
//! * At the last segment, a node without an operation falls back to its first child matching
//!   the literal text `/*` (a `/*`, a `/**` or a glob such as `/**x`): so `/op1/*` and
//!   `/op1/**` both match `/op1` itself.
//!
//! All the tries of a Configuration live in one [`Forest`]: nodes in one arena, segment texts
//! interned once (a request segment is looked up once, then compared by id). A node with up
//! to [`SMALL`] children keeps them in one insertion-ordered list, compared by segment id; a
//! node with more indexes them in one hash table keyed by (parent, segment), and lists only
//! its wildcard children. A lookup costs one hash probe per segment plus at most [`SMALL`]
//! integer compares or one more probe, and a test of each wildcard sibling that precedes the
//! exact match, never a scan of a node's literal children; a node costs 20 bytes, plus its
//! edge when its parent has many children.

use std::collections::HashMap;
use std::sync::Arc;

use super::fxhash::FxBuild;

/// Interned segment ids of `/*` and `/**` (interned first by [`Forest::default`]).
const ONE: u32 = 0;
const MANY: u32 = 1;
/// "None" in the u32 fields of [`Node`].
const NIL: u32 = u32::MAX;
/// Up to this many children, a node's children are found along its list.
const SMALL: u32 = 8;

/// The tries of one Configuration; a trie is named by its root node ([`Forest::new_trie`]).
#[derive(Debug)]
pub(super) struct Forest {
    nodes: Vec<Node>,
    /// (parent node, segment id) → child node, for the children of nodes with more than
    /// [`SMALL`] children.
    edges: HashMap<(u32, u32), u32, FxBuild>,
    /// Segment text → id, id → text, and whether the text holds a `*`.
    seg_ids: HashMap<Arc<str>, u32, FxBuild>,
    segs: Vec<Arc<str>>,
    wild: Vec<bool>,
    /// While building: the last listed child of each large node, so that appending to a long
    /// wildcard list stays O(1) (dropped after; the list is then walked).
    tails: HashMap<u32, u32, FxBuild>,
}

#[derive(Debug)]
struct Node {
    /// The segment id (`NIL` for a root).
    seg: u32,
    /// The operation stored here (its index in its policy), or `NIL`.
    data: u32,
    /// How many children.
    kids: u32,
    /// The first of the listed children, in insertion order (`NIL`: none): every child of a
    /// small node, the wildcard children of a large one...
    first: u32,
    /// ... and the next such sibling after this node.
    next: u32,
}

impl Node {
    fn large(&self) -> bool {
        self.kids > SMALL
    }
}

impl Default for Forest {
    fn default() -> Self {
        let mut f = Forest {
            nodes: Vec::new(),
            edges: HashMap::default(),
            seg_ids: HashMap::default(),
            segs: Vec::new(),
            wild: Vec::new(),
            tails: HashMap::default(),
        };
        f.intern("/*");
        f.intern("/**");
        f
    }
}

/// The segments of an operation, each with its leading slash and whether it is the last:
/// `/a/b` → `/a`, `/b`. Like Go's `strings.Split(op, "/")[1:]`, so `/` gives one empty segment
/// (`/`), and anything before the first `/` is ignored.
fn segments(op: &str) -> impl Iterator<Item = (bool, &str)> {
    let mut rest = op.find('/').and_then(|i| op.get(i..));
    std::iter::from_fn(move || {
        let r = rest?;
        match r.bytes().skip(1).position(|b| b == b'/') {
            Some(i) => {
                rest = r.get(i + 1..);
                Some((false, r.get(..i + 1).unwrap_or(r)))
            }
            None => {
                rest = None;
                Some((true, r))
            }
        }
    })
}

impl Forest {
    fn intern(&mut self, seg: &str) -> u32 {
        if let Some(&id) = self.seg_ids.get(seg) {
            return id;
        }
        let id = self.segs.len() as u32;
        let text: Arc<str> = seg.into();
        self.segs.push(text.clone());
        self.seg_ids.insert(text, id);
        self.wild.push(seg.contains('*'));
        id
    }

    fn text(&self, seg: u32) -> &str {
        self.segs.get(seg as usize).map_or("", |s| s)
    }

    fn is_wild(&self, seg: u32) -> bool {
        self.wild.get(seg as usize).copied().unwrap_or(false)
    }

    fn node(&self, id: u32) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    fn node_mut(&mut self, id: u32) -> Option<&mut Node> {
        self.nodes.get_mut(id as usize)
    }

    /// The listed children of `node`, in insertion order.
    fn listed(&self, node: u32) -> impl Iterator<Item = (u32, &Node)> {
        let mut cur = self.node(node).map_or(NIL, |n| n.first);
        std::iter::from_fn(move || {
            let id = cur;
            let n = self.node(id)?;
            cur = n.next;
            Some((id, n))
        })
    }

    /// Frees the spare capacity left by building.
    pub(super) fn shrink_to_fit(&mut self) {
        self.nodes.shrink_to_fit();
        self.edges.shrink_to_fit();
        self.seg_ids.shrink_to_fit();
        self.segs.shrink_to_fit();
        self.wild.shrink_to_fit();
        self.tails = HashMap::default();
    }

    /// A new, empty trie: its root.
    pub(super) fn new_trie(&mut self) -> u32 {
        self.push(NIL, NIL)
    }

    fn push(&mut self, seg: u32, data: u32) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            seg,
            data,
            kids: 0,
            first: NIL,
            next: NIL,
        });
        id
    }

    /// The child of `node` whose text is exactly segment `sid`.
    fn exact(&self, node: u32, sid: u32) -> Option<u32> {
        let n = self.node(node)?;
        if n.large() {
            self.edges.get(&(node, sid)).copied()
        } else {
            self.listed(node).find(|(_, c)| c.seg == sid).map(|(id, _)| id)
        }
    }

    /// `PutOperationAction`: stores `data` under `op` (which starts with `/`) in the trie
    /// `root`, unless an operation of the same name is already there. Returns false when it
    /// was a duplicate.
    pub(super) fn insert(&mut self, root: u32, op: &str, data: u32) -> bool {
        let mut node = root;
        for (last, seg) in segments(op) {
            let sid = self.intern(seg);
            match self.exact(node, sid) {
                None => {
                    let id = self.push(sid, if last { data } else { NIL });
                    self.add_child(node, id);
                    node = id;
                }
                Some(child) if last => {
                    let Some(n) = self.node_mut(child) else {
                        return false;
                    };
                    if n.data != NIL {
                        return false;
                    }
                    n.data = data;
                }
                Some(child) => node = child,
            }
        }
        true
    }

    /// Adds `child` as the last child of `parent`; when `parent` grows past [`SMALL`], its
    /// children move to the edge table and its list keeps the wildcard ones only.
    fn add_child(&mut self, parent: u32, child: u32) {
        let Some(p) = self.node_mut(parent) else {
            return;
        };
        p.kids += 1;
        let (large, converting) = (p.large(), p.kids == SMALL + 1);
        let seg = self.node(child).map_or(NIL, |c| c.seg);
        if converting {
            let listed: Vec<(u32, u32)> = self.listed(parent).map(|(id, c)| (id, c.seg)).collect();
            if let Some(p) = self.node_mut(parent) {
                p.first = NIL;
            }
            for (id, s) in listed {
                self.edges.insert((parent, s), id);
                if self.is_wild(s) {
                    self.append(parent, id);
                }
            }
        }
        if large {
            self.edges.insert((parent, seg), child);
            if !self.is_wild(seg) {
                return;
            }
        }
        self.append(parent, child);
    }

    /// Appends `child` to the list of `parent`.
    fn append(&mut self, parent: u32, child: u32) {
        if let Some(c) = self.node_mut(child) {
            c.next = NIL;
        }
        let tail = match self.tails.get(&parent) {
            Some(&t) => Some(t),
            None => self.listed(parent).last().map(|(id, _)| id),
        };
        match tail.and_then(|t| self.node_mut(t)) {
            Some(t) => t.next = child,
            None => {
                if let Some(p) = self.node_mut(parent) {
                    p.first = child;
                }
            }
        }
        if self.node(parent).is_some_and(Node::large) {
            self.tails.insert(parent, child);
        }
    }

    /// `Search`: the operation Dapr matches for `op` (which starts with `/`) in the trie
    /// `root`, if any.
    pub(super) fn search(&self, root: u32, op: &str) -> Option<u32> {
        let mut node = root;
        for (last, seg) in segments(op) {
            node = self.child(node, seg, self.seg_ids.get(seg).copied(), last)?;
            let n = self.node(node)?;
            if n.data != NIL {
                // acl_trie.go: `if !isEnd && strings.HasSuffix(node.Char, "/*") &&
                // !strings.HasSuffix(node.Char, "/**") { continue }` — only `/*` itself.
                if !last && n.seg == ONE {
                    continue;
                }
                return Some(n.data);
            } else if last {
                let c = self.child(node, self.text(ONE), Some(ONE), true)?;
                return self.node(c).map(|n| n.data).filter(|&d| d != NIL);
            }
        }
        None
    }

    /// `findNodeWithWildcard`: the first child of `node`, in insertion order, that matches
    /// `seg` (whose id is `sid`, if the segment text occurs in any operation). Children are
    /// created in insertion order, so their ids are in that order too.
    fn child(&self, node: u32, seg: &str, sid: Option<u32>, last: bool) -> Option<u32> {
        let hit = |c: &Node| match c.seg {
            ONE => last,
            MANY => true,
            glob => is_match(seg.as_bytes(), self.text(glob).as_bytes()),
        };
        if !self.node(node)?.large() {
            return self
                .listed(node)
                .find(|(_, c)| Some(c.seg) == sid || self.is_wild(c.seg) && hit(c))
                .map(|(id, _)| id);
        }
        let exact = sid.and_then(|s| self.edges.get(&(node, s)).copied());
        self.listed(node)
            .take_while(|&(id, _)| exact.is_none_or(|e| id < e))
            .find(|(_, c)| hit(c))
            .map(|(id, _)| id)
            .or(exact)
    }
}

/// acl_trie.go `isMatch`: `*` matches any run of bytes (even empty); every other byte stands
/// for itself. Byte-wise, as Go compares them. Greedy with one backtrack point (the last `*`
/// seen), which is exact for patterns whose only wildcard is `*`; allocates nothing.
pub(super) fn is_match(target: &[u8], pattern: &[u8]) -> bool {
    let (mut t, mut p) = (0, 0);
    // After the last `*` seen: the pattern position past it, and the target position it
    // currently stands for up to.
    let mut star: Option<(usize, usize)> = None;
    while t < target.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p + 1, t));
                p += 1;
            }
            Some(&c) if c == target[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    // Let the `*` absorb one more byte and retry.
                    p = sp;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(ops: &[&str], req: &str) -> Option<u32> {
        let mut f = Forest::default();
        // A trie built before, in the same forest, must not leak into this one.
        let other = f.new_trie();
        f.insert(other, "/op1", 99);
        f.insert(other, "/**", 99);
        let t = f.new_trie();
        for (i, op) in ops.iter().enumerate() {
            f.insert(t, op, i as u32);
        }
        f.search(t, req)
    }

    /// (operations in order, request, the operation index Dapr picks).
    const TABLE: &[(&[&str], &str, Option<u32>)] = &[
        // Exact, and the plain operation matching below itself.
        (&["/op1"], "/op1", Some(0)),
        (&["/op1"], "/op2", None),
        (&["/op1"], "/op1/a/b", Some(0)),
        (&["/op1/a"], "/op1", None),
        (&["/api/v1/state"], "/api/v1/state", Some(0)),
        (&["/api/v1/state"], "/api/v1/other", None),
        // `*`: one segment at the end, or none.
        (&["/op1/*"], "/op1/a", Some(0)),
        (&["/op1/*"], "/op1", Some(0)),
        (&["/op1/*"], "/op1/a/b", None),
        (&["/op1/*"], "/op2/a", None),
        (&["/api/v1/*"], "/api/v1/foo/bar", None),
        // `*` in the middle of a path only matches a literal `*` segment.
        (&["/a/*/c"], "/a/b/c", None),
        (&["/a/*/c"], "/a/*/c", Some(0)),
        // `**`: any number of segments, including none.
        (&["/op1/**"], "/op1/a", Some(0)),
        (&["/op1/**"], "/op1/a/b/c", Some(0)),
        (&["/op1/**"], "/op1", Some(0)),
        (&["/api/**"], "/api/anything/nested/deep", Some(0)),
        (&["/**"], "/x/y", Some(0)),
        (&["/*"], "/", Some(0)),
        (&["/a/**/c"], "/a/b/x", None),
        // `*` inside a segment is a glob.
        (&["/get*"], "/getorders", Some(0)),
        (&["/get*"], "/get", Some(0)),
        (&["/get*"], "/post", None),
        (&["/*orders"], "/neworders", Some(0)),
        (&["/a*d"], "/abcd", Some(0)),
        (&["/a*d"], "/abce", None),
        (&["/get*"], "/getx/deeper", Some(0)),
        // First match in insertion order: a wildcard before a sibling shadows it.
        (&["/api/v1/*", "/api/v1/state"], "/api/v1/state", Some(0)),
        (&["/api/v1/state", "/api/v1/*"], "/api/v1/state", Some(0)),
        (&["/api/v1/state", "/api/v1/*"], "/api/v1/other", Some(1)),
        (&["/a*", "/abc"], "/abc", Some(0)),
        (&["/abc", "/a*"], "/abc", Some(0)),
        // ... and no backtracking once a child is chosen.
        (&["/a*/x", "/abc/y"], "/abc/y", None),
        (&["/abc/y", "/a*/x"], "/abc/y", Some(0)),
        // First put wins on duplicates.
        (&["/op1", "/op1"], "/op1", Some(0)),
        // A later, shorter operation fills an inner node; it then answers for the longer one.
        (&["/a/b", "/a"], "/a/b", Some(1)),
        (&["/a", "/a/b"], "/a/b", Some(0)),
        // A trailing slash is its own empty segment: matched only by a path ending in `/`.
        (&["/op1/"], "/op1", None),
        (&["/op1/"], "/op1/", Some(0)),
        // Empty trie.
        (&[], "/x", None),
    ];

    #[test]
    fn searches_as_dapr_does() {
        for (ops, req, want) in TABLE {
            assert_eq!(search(ops, req), *want, "ops {ops:?}, request {req}");
        }
    }

    #[test]
    fn nodes_with_many_children_search_alike() {
        // Past SMALL children a node indexes them by hash: the same first match in insertion
        // order, whether the wildcard comes first, last, or the node grows past SMALL later.
        let literals: Vec<String> = (0..12).map(|i| format!("/l{i}")).collect();
        let lits: Vec<&str> = literals.iter().map(String::as_str).collect();
        for n in [SMALL as usize - 1, SMALL as usize, SMALL as usize + 1, 12] {
            let l = &lits[..n];
            let wild_first: Vec<&str> = ["/l*"].iter().chain(l).copied().collect();
            let wild_last: Vec<&str> = l.iter().chain(&["/l*", "/**"]).copied().collect();
            assert_eq!(search(&wild_first, "/l1"), Some(0), "{n}");
            assert_eq!(search(&wild_first, "/lx"), Some(0), "{n}");
            assert_eq!(search(&wild_last, "/l1"), Some(1), "{n}");
            assert_eq!(search(&wild_last, "/lx"), Some(n as u32), "{n}");
            assert_eq!(search(&wild_last, "/y/z"), Some(n as u32 + 1), "{n}");
            assert_eq!(search(l, "/l0/deeper"), Some(0), "{n}");
            assert_eq!(search(l, "/y"), None, "{n}");
            // A later, shorter operation fills an inner node of a large parent.
            let mut deep: Vec<String> = l.iter().map(|s| format!("{s}/x")).collect();
            deep.push("/l0".into());
            let deep: Vec<&str> = deep.iter().map(String::as_str).collect();
            assert_eq!(search(&deep, "/l0/y"), Some(n as u32), "{n}");
            assert_eq!(search(&deep, "/l1/x"), Some(1), "{n}");
        }
    }

    #[test]
    fn duplicates_are_reported() {
        let mut f = Forest::default();
        let t = f.new_trie();
        assert!(f.insert(t, "/op1", 0));
        assert!(!f.insert(t, "/op1", 1));
        assert!(f.insert(t, "/op1/x", 2));
        // Another trie of the forest has its own names.
        let u = f.new_trie();
        assert!(f.insert(u, "/op1", 0));
    }

    #[test]
    fn glob_as_dapr_tests_it() {
        // dapr pkg/config/acl_trie_test.go TestWildcardMatch.
        for (t, p) in [
            ("/ABC", "/A*"),
            ("/ABC.a", "/A*"),
            ("/ABC", "/*C"),
            ("/ABC.a", "/*a"),
            ("/abcd", "/a*d"),
            ("/ABC.a", "/AB*.a"),
            ("", "***"),
        ] {
            assert!(is_match(t.as_bytes(), p.as_bytes()), "{t} ~ {p}");
        }
        for (t, p) in [
            ("/ABC", "/B*"),
            ("/abc", "/abcd"),
            ("/*", "/a*"),
            ("x", ""),
            ("/abcdc", "/a*c*d"),
            ("/ab", "/a*b*c"),
        ] {
            assert!(!is_match(t.as_bytes(), p.as_bytes()), "{t} !~ {p}");
        }
    }
}
