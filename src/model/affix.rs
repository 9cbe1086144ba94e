//! Prefix and suffix lookups that cost O(distinct lengths), not O(entries).

use std::collections::HashMap;

/// Values keyed by a string that must be a prefix (or suffix) of the probe.
///
/// A probe is checked only at the lengths some key has, each a hash lookup, so 100,000
/// prefixes of ten lengths cost ten lookups.
#[derive(Clone, Debug)]
pub(crate) struct AffixMap<T> {
    map: HashMap<Box<str>, Vec<T>>,
    lens: Vec<usize>,
}

impl<T> Default for AffixMap<T> {
    fn default() -> Self {
        AffixMap {
            map: HashMap::new(),
            lens: Vec::new(),
        }
    }
}

impl<T> AffixMap<T> {
    pub(crate) fn insert(&mut self, key: &str, v: T) {
        if let Err(at) = self.lens.binary_search(&key.len()) {
            self.lens.insert(at, key.len());
        }
        self.map.entry(key.into()).or_default().push(v);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Calls `f` with the values of every key that is a prefix of `s`.
    pub(crate) fn for_each_prefix(&self, s: &str, mut f: impl FnMut(&T)) {
        for &n in self.lens.iter().take_while(|&&n| n <= s.len()) {
            if let Some(vs) = s.get(..n).and_then(|k| self.map.get(k)) {
                vs.iter().for_each(&mut f);
            }
        }
    }

    /// Calls `f` with the values of every key that is a suffix of `s`.
    pub(crate) fn for_each_suffix(&self, s: &str, mut f: impl FnMut(&T)) {
        for &n in self.lens.iter().take_while(|&&n| n <= s.len()) {
            if let Some(vs) = s.get(s.len() - n..).and_then(|k| self.map.get(k)) {
                vs.iter().for_each(&mut f);
            }
        }
    }

    pub(crate) fn has_prefix_of(&self, s: &str) -> bool {
        let mut hit = false;
        self.for_each_prefix(s, |_| hit = true);
        hit
    }

    pub(crate) fn has_suffix_of(&self, s: &str) -> bool {
        let mut hit = false;
        self.for_each_suffix(s, |_| hit = true);
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_suffixes() {
        let mut m = AffixMap::default();
        m.insert("/api/", 1);
        m.insert("/a", 2);
        m.insert("", 3);
        let mut got = vec![];
        m.for_each_prefix("/api/x", |v| got.push(*v));
        got.sort();
        assert_eq!(got, vec![1, 2, 3]);
        // The empty key is a prefix of everything; without it, `x` has none.
        assert!(m.has_prefix_of("x"));
        let mut no_empty = AffixMap::default();
        no_empty.insert("/a", 1);
        assert!(!no_empty.has_prefix_of("x"));
        assert!(no_empty.has_prefix_of("/a"));
        let mut s = AffixMap::default();
        s.insert(".png", 1);
        assert!(s.has_suffix_of("/a.png"));
        assert!(!s.has_suffix_of("/a.jpg"));
        assert!(!s.has_suffix_of("png"));
    }

    #[test]
    fn multibyte_probe_never_panics() {
        let mut m = AffixMap::default();
        m.insert("ab", 1);
        m.insert("a", 2);
        assert!(!m.has_prefix_of("é"));
        assert!(!m.has_suffix_of("éé"));
    }
}
