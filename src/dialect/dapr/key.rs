//! Dapr's `appID||namespace` policy key, probed with two borrowed `&str` (no key built per
//! request): the owned key and the borrowed pair hash and compare alike through [`Pair`].

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// (appId, namespace), owned: the namespace interned.
#[derive(Debug)]
pub(super) struct AppNs {
    pub app: Box<str>,
    pub ns: Arc<str>,
}

/// (appId, namespace), owned or borrowed.
pub(super) trait Pair {
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

// As `HashMap` requires of a `Borrow`: the same hash and equality as the borrowed form.
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn found_by_borrowed_pair_only_when_both_match() {
        let mut m = HashMap::new();
        m.insert(
            AppNs {
                app: "a".into(),
                ns: "n".into(),
            },
            1,
        );
        m.insert(
            AppNs {
                app: "a".into(),
                ns: "m".into(),
            },
            2,
        );
        assert_eq!(m.get(&("a", "n") as &dyn Pair), Some(&1));
        assert_eq!(m.get(&("a", "m") as &dyn Pair), Some(&2));
        assert_eq!(m.get(&("an", "") as &dyn Pair), None);
        assert_eq!(m.get(&("n", "a") as &dyn Pair), None);
    }
}
