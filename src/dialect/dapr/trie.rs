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
//! interned once, and the exact children of every node in one hash table keyed by (parent,
//! segment). A lookup costs two hash probes per segment plus a test of each wildcard sibling
//! that precedes the exact match, never a scan of the literal siblings; a node costs 16 bytes
//! plus its edge, whatever its number of children.

use std::collections::HashMap;
use std::sync::Arc;

use super::fxhash::FxBuild;

/// Interned segment ids of `/*` and `/**` (interned first by [`Forest::default`]).
const ONE: u32 = 0;
const MANY: u32 = 1;
/// "None" in the u32 fields of [`Node`].
const NIL: u32 = u32::MAX;

/// The tries of one Configuration; a trie is named by its root node ([`Forest::new_trie`]).
#[derive(Debug)]
pub(super) struct Forest {
    nodes: Vec<Node>,
    /// (parent node, segment id) → child node: every child, wildcard or not.
    edges: HashMap<(u32, u32), u32, FxBuild>,
    /// Segment text → id, and id → text.
    seg_ids: HashMap<Arc<str>, u32, FxBuild>,
    segs: Vec<Arc<str>>,
}

#[derive(Debug)]
struct Node {
    /// The segment id (`NIL` for a root).
    seg: u32,
    /// The operation stored here (its index in its policy), or `NIL`.
    data: u32,
    /// The first child whose text holds a `*`, in insertion order (`NIL`: none)...
    first_wild: u32,
    /// ... and the next such sibling after this node.
    next_wild: u32,
}

impl Default for Forest {
    fn default() -> Self {
        let mut f = Forest {
            nodes: Vec::new(),
            edges: HashMap::default(),
            seg_ids: HashMap::default(),
            segs: Vec::new(),
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
        id
    }

    fn text(&self, seg: u32) -> &str {
        self.segs.get(seg as usize).map_or("", |s| s)
    }

    fn node(&self, id: u32) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    /// Frees the spare capacity left by building.
    pub(super) fn shrink_to_fit(&mut self) {
        self.nodes.shrink_to_fit();
        self.edges.shrink_to_fit();
        self.seg_ids.shrink_to_fit();
        self.segs.shrink_to_fit();
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
            first_wild: NIL,
            next_wild: NIL,
        });
        id
    }

    /// `PutOperationAction`: stores `data` under `op` (which starts with `/`) in the trie
    /// `root`, unless an operation of the same name is already there. Returns false when it
    /// was a duplicate.
    pub(super) fn insert(&mut self, root: u32, op: &str, data: u32) -> bool {
        let mut node = root;
        for (last, seg) in segments(op) {
            let sid = self.intern(seg);
            match self.edges.get(&(node, sid)).copied() {
                None => {
                    let id = self.push(sid, if last { data } else { NIL });
                    self.edges.insert((node, sid), id);
                    if seg.contains('*') {
                        self.append_wild(node, id);
                    }
                    node = id;
                }
                Some(child) if last => {
                    let Some(n) = self.nodes.get_mut(child as usize) else {
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

    /// Appends `child` to the wildcard children of `parent` (in insertion order).
    fn append_wild(&mut self, parent: u32, child: u32) {
        let mut cur = self.node(parent).map_or(NIL, |n| n.first_wild);
        if cur == NIL {
            if let Some(p) = self.nodes.get_mut(parent as usize) {
                p.first_wild = child;
            }
            return;
        }
        while let Some(next) = self.node(cur).map(|n| n.next_wild).filter(|&n| n != NIL) {
            cur = next;
        }
        if let Some(c) = self.nodes.get_mut(cur as usize) {
            c.next_wild = child;
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
        let exact = sid.and_then(|s| self.edges.get(&(node, s)).copied());
        let mut w = self.node(node)?.first_wild;
        while let Some(c) = self.node(w) {
            if exact.is_some_and(|e| w >= e) {
                break;
            }
            let hit = match c.seg {
                ONE => last,
                MANY => true,
                glob => is_match(seg.as_bytes(), self.text(glob).as_bytes()),
            };
            if hit {
                return Some(w);
            }
            w = c.next_wild;
        }
        exact
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
