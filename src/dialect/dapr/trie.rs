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
//! Lookups cost one hash probe per segment plus a test of each wildcard sibling that precedes
//! the exact match, never a scan of the literal siblings.

use std::collections::HashMap;

const ONE: &str = "/*";
const MANY: &str = "/**";

/// A trie of operation names; the data is the operation's index in its policy.
#[derive(Debug)]
pub(super) struct Trie {
    nodes: Vec<Node>,
}

#[derive(Debug)]
struct Node {
    seg: Box<str>,
    data: Option<u32>,
    children: Vec<u32>,
    /// Child position by exact text (every child is here).
    exact: HashMap<Box<str>, usize>,
    /// Positions of the children whose text holds a `*`, ascending.
    wild: Vec<usize>,
}

impl Node {
    fn new(seg: &str, data: Option<u32>) -> Node {
        Node {
            seg: seg.into(),
            data,
            children: Vec::new(),
            exact: HashMap::new(),
            wild: Vec::new(),
        }
    }
}

impl Default for Trie {
    fn default() -> Self {
        Trie {
            nodes: vec![Node::new("/", None)],
        }
    }
}

/// The text of each segment after the first `/`, with its slash: `/a/b` → `/a`, `/b`.
/// Like Go's `strings.Split(op, "/")[1:]`, so `/` gives one empty segment (`/`).
fn segments(op: &str) -> impl Iterator<Item = (bool, &str)> {
    // Split points: every '/' starts a segment that runs to the next '/'.
    let starts: Vec<usize> = op.match_indices('/').map(|(i, _)| i).collect();
    let n = starts.len();
    (0..n).map(move |k| {
        let end = starts.get(k + 1).copied().unwrap_or(op.len());
        (k + 1 == n, op.get(starts[k]..end).unwrap_or(""))
    })
}

impl Trie {
    /// `PutOperationAction`: stores `data` under `op` (which starts with `/`) unless an
    /// operation of the same name is already there. Returns false when it was a duplicate.
    pub(super) fn insert(&mut self, op: &str, data: u32) -> bool {
        let mut node = 0usize;
        for (last, seg) in segments(op) {
            let existing = self.nodes[node]
                .exact
                .get(seg)
                .map(|&pos| self.nodes[node].children[pos]);
            match existing {
                None => {
                    let id = self.nodes.len() as u32;
                    self.nodes.push(Node::new(seg, last.then_some(data)));
                    let parent = &mut self.nodes[node];
                    let pos = parent.children.len();
                    parent.children.push(id);
                    parent.exact.insert(seg.into(), pos);
                    if seg.contains('*') {
                        parent.wild.push(pos);
                    }
                    node = id as usize;
                }
                Some(child) if last => {
                    let n = &mut self.nodes[child as usize];
                    if n.data.is_some() {
                        return false;
                    }
                    n.data = Some(data);
                }
                Some(child) => node = child as usize,
            }
        }
        true
    }

    /// `Search`: the operation Dapr matches for `op` (which starts with `/`), if any.
    pub(super) fn search(&self, op: &str) -> Option<u32> {
        let mut node = 0usize;
        for (last, seg) in segments(op) {
            node = self.child(node, seg, last)?;
            let n = &self.nodes[node];
            if let Some(d) = n.data {
                // acl_trie.go: `if !isEnd && strings.HasSuffix(node.Char, "/*") &&
                // !strings.HasSuffix(node.Char, "/**") { continue }` — only `/*` itself.
                if !last && &*n.seg == ONE {
                    continue;
                }
                return Some(d);
            } else if last {
                let c = self.child(node, ONE, true)?;
                return self.nodes[c].data;
            }
        }
        None
    }

    /// `findNodeWithWildcard`: the first child, in insertion order, that matches `seg`.
    fn child(&self, node: usize, seg: &str, last: bool) -> Option<usize> {
        let n = &self.nodes[node];
        let exact = n.exact.get(seg).copied();
        for &pos in &n.wild {
            if exact.is_some_and(|e| pos >= e) {
                break;
            }
            let c = n.children[pos] as usize;
            let text = &*self.nodes[c].seg;
            let hit = match text {
                ONE => last,
                MANY => true,
                glob => is_match(seg.as_bytes(), glob.as_bytes()),
            };
            if hit {
                return Some(c);
            }
        }
        exact.map(|pos| n.children[pos] as usize)
    }
}

/// acl_trie.go `isMatch`: `*` matches any run of bytes (even empty); every other byte stands
/// for itself. Byte-wise, as Go compares them.
pub(super) fn is_match(target: &[u8], pattern: &[u8]) -> bool {
    // prev[j]: does target[..i] match pattern[..j]?
    let mut prev = vec![false; pattern.len() + 1];
    prev[0] = true;
    for j in 1..=pattern.len() {
        prev[j] = prev[j - 1] && pattern[j - 1] == b'*';
    }
    for &t in target {
        let mut cur = vec![false; pattern.len() + 1];
        for j in 1..=pattern.len() {
            let p = pattern[j - 1];
            cur[j] = if p == b'*' {
                cur[j - 1] || prev[j]
            } else {
                p == t && prev[j - 1]
            };
        }
        prev = cur;
    }
    prev[pattern.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trie(ops: &[&str]) -> Trie {
        let mut t = Trie::default();
        for (i, op) in ops.iter().enumerate() {
            t.insert(op, i as u32);
        }
        t
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
            assert_eq!(trie(ops).search(req), *want, "ops {ops:?}, request {req}");
        }
    }

    #[test]
    fn duplicates_are_reported() {
        let mut t = Trie::default();
        assert!(t.insert("/op1", 0));
        assert!(!t.insert("/op1", 1));
        assert!(t.insert("/op1/x", 2));
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
        for (t, p) in [("/ABC", "/B*"), ("/abc", "/abcd"), ("/*", "/a*"), ("x", "")] {
            assert!(!is_match(t.as_bytes(), p.as_bytes()), "{t} !~ {p}");
        }
    }
}
