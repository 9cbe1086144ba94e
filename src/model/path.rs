//! Path patterns of every dialect, and a map that finds *all* patterns matching a path.
//!
//! Authorization needs every match, not the best one (Istio: "any DENY matches"; Drako: "exactly
//! one binding"), so the segment patterns live in a trie walked once per request: the cost
//! depends on the path's length and the wildcards present, not on the number of patterns.

use std::collections::HashMap;

use super::affix::AffixMap;

/// One segment of a [`PathPattern::Segments`] pattern.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    /// This exact segment.
    Lit(Box<str>),
    /// Istio `{*}`, Envoy uri_template's `*`: one non-empty segment of template literal
    /// characters only ([`is_template_char`]: not `*` nor `=`).
    One,
    /// Istio `{**}`, Envoy uri_template's `**` after a `/`: any text (empty too, `/` included)
    /// of template literal characters, so one or more segments in this split (`/a/{**}` needs
    /// the `/` after `a`).
    Rest,
}

/// A character Envoy's uri_template globs match (its `kLiteral`: unreserved, `%`, the
/// sub-delims but `*` and `=`, `:` and `@`).
pub fn is_template_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()+,;:@".contains(&b)
}

/// A test on the canonical request path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathPattern {
    /// Equal.
    Exact(String),
    /// Starts with (byte-wise: Istio `/api*` matches `/apis`).
    Prefix(String),
    /// Ends with.
    Suffix(String),
    /// Any path.
    Any,
    /// A segment pattern such as `/a/{*}/b/{**}`, split on `/` after the leading slash.
    Segments(Vec<Seg>),
}

#[derive(Clone, Debug)]
struct SegNode<T> {
    lits: HashMap<Box<str>, SegNode<T>>,
    one: Option<Box<SegNode<T>>>,
    rest: Option<Box<SegNode<T>>>,
    end: Vec<T>,
}

impl<T> Default for SegNode<T> {
    fn default() -> Self {
        SegNode {
            lits: HashMap::new(),
            one: None,
            rest: None,
            end: Vec::new(),
        }
    }
}

impl<T> SegNode<T> {
    fn insert(&mut self, segs: &[Seg], v: T) {
        let Some((first, tail)) = segs.split_first() else {
            self.end.push(v);
            return;
        };
        let child = match first {
            Seg::Lit(s) => self.lits.entry(s.clone()).or_default(),
            Seg::One => self.one.get_or_insert_with(Default::default),
            Seg::Rest => self.rest.get_or_insert_with(Default::default),
        };
        child.insert(tail, v);
    }

    /// Visits the values of every pattern below this node that matches `segs`: the segments
    /// left, `None` for none (`Some("")` is one empty segment, as `/` has). Walks the path in
    /// place: nothing is collected per request.
    fn walk(&self, segs: Option<&str>, f: &mut impl FnMut(&T)) {
        if let (Some(child), Some(s)) = (&self.rest, segs) {
            // One segment or more, each of template characters only: the run of such segments
            // at the start, then what follows each of its segments (nothing, after the last
            // segment of the path). One bounded scan of the path.
            let run = s.bytes().position(|b| b != b'/' && !is_template_char(b));
            for (i, _) in s[..run.unwrap_or(s.len())].match_indices('/') {
                child.walk(Some(&s[i + 1..]), f);
            }
            if run.is_none() {
                child.walk(None, f);
            }
        }
        let Some(s) = segs else {
            self.end.iter().for_each(&mut *f);
            return;
        };
        let (first, tail) = split(s);
        if let Some(child) = self.lits.get(first) {
            child.walk(tail, f);
        }
        if let Some(child) = &self.one {
            if !first.is_empty() && first.bytes().all(is_template_char) {
                child.walk(tail, f);
            }
        }
    }
}

/// The first segment of `s` and what follows it (`None`: it was the last).
fn split(s: &str) -> (&str, Option<&str>) {
    match s.split_once('/') {
        Some((first, tail)) => (first, Some(tail)),
        None => (s, None),
    }
}

/// Values keyed by path patterns; [`PathMap::for_each_match`] visits every value whose pattern
/// matches a path.
#[derive(Clone, Debug)]
pub struct PathMap<T> {
    exact: HashMap<Box<str>, Vec<T>>,
    prefix: AffixMap<T>,
    suffix: AffixMap<T>,
    any: Vec<T>,
    trie: SegNode<T>,
    has_trie: bool,
}

impl<T> Default for PathMap<T> {
    fn default() -> Self {
        PathMap {
            exact: HashMap::new(),
            prefix: AffixMap::default(),
            suffix: AffixMap::default(),
            any: Vec::new(),
            trie: SegNode::default(),
            has_trie: false,
        }
    }
}

impl<T> PathMap<T> {
    /// Adds a value under a pattern.
    pub fn insert(&mut self, p: &PathPattern, v: T) {
        match p {
            PathPattern::Exact(s) => self.exact.entry(s.as_str().into()).or_default().push(v),
            PathPattern::Prefix(s) => self.prefix.insert(s, v),
            PathPattern::Suffix(s) => self.suffix.insert(s, v),
            PathPattern::Any => self.any.push(v),
            PathPattern::Segments(segs) => {
                self.has_trie = true;
                self.trie.insert(segs, v)
            }
        }
    }

    /// Calls `f` for the value of every pattern matching `path` (a value may be visited twice
    /// when its pattern can match in two ways; callers that count must deduplicate).
    pub fn for_each_match(&self, path: &str, mut f: impl FnMut(&T)) {
        self.any.iter().for_each(&mut f);
        if let Some(vs) = self.exact.get(path) {
            vs.iter().for_each(&mut f);
        }
        self.prefix.for_each_prefix(path, &mut f);
        self.suffix.for_each_suffix(path, &mut f);
        if self.has_trie {
            if let Some(rest) = path.strip_prefix('/') {
                self.trie.walk(Some(rest), &mut f);
            }
        }
    }
}

/// An OR of path patterns.
#[derive(Clone, Debug, Default)]
pub struct PathSet(PathMap<()>);

impl PathSet {
    /// Builds a set.
    pub fn from_patterns<'a>(ps: impl IntoIterator<Item = &'a PathPattern>) -> PathSet {
        let mut m = PathMap::default();
        ps.into_iter().for_each(|p| m.insert(p, ()));
        PathSet(m)
    }

    /// Does any pattern match?
    pub fn matches(&self, path: &str) -> bool {
        let mut hit = false;
        self.0.for_each_match(path, |_| hit = true);
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(s: &[Seg]) -> PathPattern {
        PathPattern::Segments(s.to_vec())
    }
    fn lit(s: &str) -> Seg {
        Seg::Lit(s.into())
    }

    #[test]
    fn patterns_match_like_their_owners() {
        use PathPattern::*;
        let cases: Vec<(PathPattern, &str, bool)> = vec![
            (Exact("/a".into()), "/a", true),
            (Exact("/a".into()), "/a/", false),
            (Prefix("/api".into()), "/apis", true),
            (Suffix(".png".into()), "/x.png", true),
            (Any, "/", true),
            // Istio {*} (Envoy's uri_template `*`): one non-empty segment of pchars but `*`, `=`.
            (segs(&[lit("a"), Seg::One, lit("c")]), "/a/b/c", true),
            (segs(&[lit("a"), Seg::One, lit("c")]), "/a//c", false),
            (segs(&[lit("a"), Seg::One]), "/a/b/c", false),
            (segs(&[lit("a"), Seg::One]), "/a/", false),
            (segs(&[lit("a"), Seg::One]), "/a/b*c", false),
            (segs(&[lit("a"), Seg::One]), "/a/b=c", false),
            // Istio {**}: any text after the `/`, so `/a/{**}` needs `/a/`; literals may follow.
            (segs(&[lit("a"), Seg::Rest]), "/a/", true),
            (segs(&[lit("a"), Seg::Rest]), "/a", false),
            (segs(&[lit("a"), Seg::Rest]), "/ab", false),
            (segs(&[lit("a"), Seg::Rest]), "/a/b/c", true),
            (segs(&[lit("a"), Seg::Rest]), "/a/b/c*", false),
            (segs(&[lit("s"), Seg::Rest, lit("cart")]), "/s/cart", false),
            (segs(&[lit("s"), Seg::Rest, lit("cart")]), "/s//cart", true),
            (segs(&[lit("s"), Seg::Rest, lit("cart")]), "/s/a/b/cart", true),
            (segs(&[Seg::Rest]), "/", true),
        ];
        for (p, path, want) in cases {
            let one = PathSet::from_patterns([&p]);
            assert_eq!(one.matches(path), want, "{p:?} vs {path}");
        }
    }

    #[test]
    fn map_finds_every_match() {
        let mut m = PathMap::default();
        m.insert(&PathPattern::Exact("/a/b".into()), 1);
        m.insert(&PathPattern::Prefix("/a".into()), 2);
        m.insert(&segs(&[lit("a"), Seg::One]), 3);
        m.insert(&segs(&[Seg::Rest]), 4);
        m.insert(&PathPattern::Exact("/x".into()), 5);
        let mut got = vec![];
        m.for_each_match("/a/b", |v| got.push(*v));
        got.sort();
        got.dedup();
        assert_eq!(got, vec![1, 2, 3, 4]);
    }
}
