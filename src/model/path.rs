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
    /// Exactly one non-empty segment (Istio `{*}`, Drako `:`).
    One,
    /// At least `min` segments, of any content (Istio `{**}` = min 1 since `/a/{**}` needs the
    /// slash after `a`; Drako `*` = min 0, `+` = min 1).
    Rest {
        /// The fewest segments this consumes.
        min: u8,
    },
    /// Istio `{*}`, Envoy uri_template's `*`: one non-empty segment of template literal
    /// characters only ([`is_template_char`]: not `*` nor `=`).
    TemplateOne,
    /// Istio `{**}`, Envoy uri_template's `**` after a `/`: any text (empty too, `/` included)
    /// of template literal characters, so one or more segments in this split.
    TemplateRest,
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
    rest: [Option<Box<SegNode<T>>>; 2],
    template_one: Option<Box<SegNode<T>>>,
    template_rest: Option<Box<SegNode<T>>>,
    end: Vec<T>,
}

impl<T> Default for SegNode<T> {
    fn default() -> Self {
        SegNode {
            lits: HashMap::new(),
            one: None,
            rest: [None, None],
            template_one: None,
            template_rest: None,
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
            Seg::Rest { min } => self.rest[usize::from((*min).min(1))].get_or_insert_with(Default::default),
            Seg::TemplateOne => self.template_one.get_or_insert_with(Default::default),
            Seg::TemplateRest => self.template_rest.get_or_insert_with(Default::default),
        };
        child.insert(tail, v);
    }

    /// Visits the values of every pattern below this node that matches `segs`: the segments
    /// left, `None` for none (`Some("")` is one empty segment, as `/` has). Walks the path in
    /// place: nothing is collected per request.
    fn walk(&self, segs: Option<&str>, f: &mut impl FnMut(&T)) {
        for (min, child) in self.rest.iter().enumerate() {
            if let Some(child) = child {
                // Every way to consume at least `min` segments.
                let mut left = segs;
                for k in 0.. {
                    if k >= min {
                        child.walk(left, f);
                    }
                    match left {
                        Some(s) => left = split(s).1,
                        None => break,
                    }
                }
            }
        }
        if let Some(child) = &self.template_rest {
            // One segment or more, each of template characters only.
            let mut left = segs;
            while let Some(s) = left {
                let (first, tail) = split(s);
                if !first.bytes().all(is_template_char) {
                    break;
                }
                child.walk(tail, f);
                left = tail;
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
            if !first.is_empty() {
                child.walk(tail, f);
            }
        }
        if let Some(child) = &self.template_one {
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
            // Istio {*}: one non-empty segment.
            (segs(&[lit("a"), Seg::One, lit("c")]), "/a/b/c", true),
            (segs(&[lit("a"), Seg::One, lit("c")]), "/a//c", false),
            (segs(&[lit("a"), Seg::One]), "/a/b/c", false),
            // Istio {**}: `/a/{**}` needs `/a/`.
            (segs(&[lit("a"), Seg::Rest { min: 1 }]), "/a/", true),
            (segs(&[lit("a"), Seg::Rest { min: 1 }]), "/a/b/c", true),
            (segs(&[lit("a"), Seg::Rest { min: 1 }]), "/a", false),
            (segs(&[lit("a"), Seg::Rest { min: 1 }]), "/ab", false),
            // Drako `*`: zero or more.
            (segs(&[lit("a"), Seg::Rest { min: 0 }]), "/a", true),
            // Rest in the middle.
            (segs(&[lit("a"), Seg::Rest { min: 0 }, lit("z")]), "/a/z", true),
            (segs(&[lit("a"), Seg::Rest { min: 0 }, lit("z")]), "/a/b/c/z", true),
            (segs(&[lit("a"), Seg::Rest { min: 1 }, lit("z")]), "/a/z", false),
            // Envoy's uri_template: `/a/{*}`, `/a/{**}/z`, literals after `{**}`.
            (segs(&[lit("a"), Seg::TemplateOne]), "/a/b", true),
            (segs(&[lit("a"), Seg::TemplateOne]), "/a/", false),
            (segs(&[lit("a"), Seg::TemplateOne]), "/a/b*c", false),
            (segs(&[lit("a"), Seg::TemplateOne]), "/a/b=c", false),
            (segs(&[lit("a"), Seg::TemplateRest]), "/a/", true),
            (segs(&[lit("a"), Seg::TemplateRest]), "/a", false),
            (segs(&[lit("a"), Seg::TemplateRest]), "/a/b/c", true),
            (segs(&[lit("a"), Seg::TemplateRest]), "/a/b/c*", false),
            (segs(&[lit("s"), Seg::TemplateRest, lit("cart")]), "/s/cart", false),
            (segs(&[lit("s"), Seg::TemplateRest, lit("cart")]), "/s//cart", true),
            (segs(&[lit("s"), Seg::TemplateRest, lit("cart")]), "/s/a/b/cart", true),
            (segs(&[Seg::TemplateRest]), "/", true),
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
        m.insert(&segs(&[Seg::Rest { min: 0 }]), 4);
        m.insert(&PathPattern::Exact("/x".into()), 5);
        let mut got = vec![];
        m.for_each_match("/a/b", |v| got.push(*v));
        got.sort();
        got.dedup();
        assert_eq!(got, vec![1, 2, 3, 4]);
    }
}
