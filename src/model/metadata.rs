//! Tests on another filter's dynamic metadata: Istio's `experimental.envoy.filters.<f>[<key>]`
//! conditions, as istiod's `envoyFilterGenerator` writes them (an Envoy metadata matcher on
//! `filter_metadata[<f>].<key>`). The filter reads the metadata the way it reads `jwt_authn`'s
//! (see [`crate::request::HostReads::read_filter_metadata`]); a request without it matches none.

use serde_json::Value;

use super::{StringSet, Wildcard};
use crate::request::Request;

/// `filter_metadata[filter].key` is a string one of `strings` matches, or a list holding a
/// string one of `listed` matches (a value written `[v]`).
#[derive(Clone, Debug)]
pub struct MetadataTest {
    filter: Box<str>,
    key: Box<str>,
    strings: StringSet,
    listed: StringSet,
}

impl MetadataTest {
    /// The test on `key` of `filter`'s metadata, with no values yet.
    pub fn new(filter: &str, key: &str) -> MetadataTest {
        MetadataTest {
            filter: filter.into(),
            key: key.into(),
            strings: StringSet::new(),
            listed: StringSet::new(),
        }
    }

    /// Adds one Istio value: `[v]` (trimmed of its brackets) is an element of a list, anything
    /// else the string itself; each in Istio's wildcard syntax.
    pub fn insert(&mut self, v: &str) {
        if v.starts_with('[') && v.ends_with(']') {
            self.listed
                .insert(Wildcard::istio(v.trim_matches(['[', ']'])).to_match());
        } else {
            self.strings.insert(Wildcard::istio(v).to_match());
        }
    }

    /// The filter whose metadata this test reads.
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// The value the request carries, for `explain`.
    pub fn value<'r>(&self, r: &'r Request) -> Option<&'r Value> {
        r.filter_metadata(&self.filter)?.get(&*self.key)
    }

    /// Does the request's metadata pass?
    pub fn matches(&self, r: &Request) -> bool {
        match self.value(r) {
            Some(Value::String(s)) => self.strings.matches(s),
            Some(Value::Array(items)) => items.iter().any(|i| i.as_str().is_some_and(|s| self.listed.matches(s))),
            _ => false,
        }
    }

    /// `filter[key]`, for `explain`.
    pub fn name(&self) -> String {
        format!("{}[{}]", self.filter, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> Request {
        let mut r = Request::new("GET", "/");
        r.metadata
            .push(("envoy.filters.a.b".into(), serde_json::json!({ "c": v })));
        r
    }

    #[test]
    fn strings_and_list_elements_as_envoys_matcher() {
        let mut t = MetadataTest::new("envoy.filters.a.b", "c");
        ["exact", "prefix-*", "[v1, v2]"].iter().for_each(|v| t.insert(v));
        for (v, want) in [
            (serde_json::json!("exact"), true),
            (serde_json::json!("prefix-x"), true),
            (serde_json::json!("other"), false),
            (serde_json::json!(["exact"]), false),
            (serde_json::json!(["x", "v1, v2"]), true),
            (serde_json::json!("v1, v2"), false),
            (serde_json::json!(1), false),
        ] {
            assert_eq!(t.matches(&req(v.clone())), want, "{v}");
        }
        assert!(!t.matches(&Request::new("GET", "/")));
    }
}
