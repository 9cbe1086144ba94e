//! YAML (and JSON, which is YAML) read with the position of every node, so that an error the
//! engine reports about a field (`resources[3] (...): spec.rules[1].from[0].source.principals[2]`)
//! can point into the user's file as `file:line:column`.
//!
//! serde-saphyr records where each node starts when asked for a [`Spanned`] value; [`Node`]
//! asks for one at every level, then [`parse`] flattens the tree into the plain JSON value
//! and an index from field path (`spec.rules[1]`, the engine's spelling) to position.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;

/// A 1-based line and column in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Where each node of a document starts, keyed by field path (`""` is the document itself).
#[derive(Debug, Default)]
pub struct Spans {
    /// Where each node starts: for a mapping entry, its key (what an editor shows as "the
    /// field"); for a list item, the item.
    at: HashMap<String, Pos>,
    /// Added to every line: the line the document starts on in its file, minus one.
    line_offset: u64,
}

impl Spans {
    /// The position of `path`, or of its nearest enclosing node that exists in the file (a
    /// missing field is reported at the object that lacks it).
    pub fn find(&self, path: &str) -> Option<Pos> {
        let mut p = path;
        loop {
            if let Some(pos) = self.find_exact(p) {
                return Some(pos);
            }
            if p.is_empty() {
                return None;
            }
            p = parent(p);
        }
    }

    /// The position of `path` itself, if it is in the file.
    pub fn find_exact(&self, path: &str) -> Option<Pos> {
        self.at.get(path).map(|pos| Pos {
            line: pos.line + self.line_offset,
            column: pos.column,
        })
    }

    /// The spans of the node at `prefix` (e.g. `resources[3]`), with paths relative to it.
    pub fn under(&self, prefix: &str) -> Spans {
        let at = self
            .at
            .iter()
            .filter_map(|(k, v)| {
                let rest = if prefix.is_empty() {
                    Some(k.as_str())
                } else {
                    k.strip_prefix(prefix)
                        .filter(|r| r.is_empty() || r.starts_with(['.', '[']))
                        .map(|r| r.strip_prefix('.').unwrap_or(r))
                }?;
                Some((rest.to_string(), *v))
            })
            .collect();
        Spans {
            at,
            line_offset: self.line_offset,
        }
    }

    /// Shifts every line, for a document that starts on line `first_line` of its file.
    pub fn starting_at(mut self, first_line: usize) -> Spans {
        self.line_offset = (first_line as u64).saturating_sub(1);
        self
    }
}

/// `a.b[2].c` → `a.b[2]` → `a.b` → `a` → ``.
fn parent(path: &str) -> &str {
    match path.rfind(['.', '[']) {
        Some(i) => &path[..i],
        None => "",
    }
}

/// `parent` + `key` in the engine's spelling (`spec.rules`).
pub fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// Parses one YAML (or JSON) document into its value and the position of every node.
pub fn parse(text: &str) -> Result<(Value, Spans), String> {
    let root: Spanned<Node> = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    let mut spans = Spans::default();
    let value = flatten(root, String::new(), &mut spans);
    Ok((value, spans))
}

fn flatten(node: Spanned<Node>, path: String, spans: &mut Spans) -> Value {
    let loc = node.referenced;
    if loc.line() > 0 {
        // A key's position was recorded by its mapping; keep it.
        spans.at.entry(path.clone()).or_insert(Pos {
            line: loc.line(),
            column: loc.column(),
        });
    }
    match node.value {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(b),
        Node::Number(n) => Value::Number(n),
        Node::String(s) => Value::String(s),
        Node::Seq(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| flatten(item, format!("{path}[{i}]"), spans))
                .collect(),
        ),
        Node::Map(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let child = join_key(&path, &key.value);
                if key.referenced.line() > 0 {
                    spans.at.insert(
                        child.clone(),
                        Pos {
                            line: key.referenced.line(),
                            column: key.referenced.column(),
                        },
                    );
                }
                map.insert(key.value, flatten(value, child, spans));
            }
            Value::Object(map)
        }
    }
}

/// A YAML node whose children carry their positions.
enum Node {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Node, E> {
        Ok(Node::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Node, E> {
        Ok(Node::Number(n.into()))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Node, E> {
        Ok(Node::Number(n.into()))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Node, E> {
        Number::from_f64(n)
            .map(Node::Number)
            .ok_or_else(|| E::custom(format!("{n} is not a JSON number")))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Node, E> {
        Ok(Node::String(s.to_string()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Node, E> {
        Ok(Node::String(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries: Vec<(Spanned<String>, Spanned<Node>)> = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            if entries.iter().any(|(k, _)| k.value == key.value) {
                // As kubectl: a key given twice is an error, not "the last one wins".
                return Err(de::Error::custom(format!("duplicate key {:?}", key.value)));
            }
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
spec:
  rules:
  - from:
    - source:
        principals: [\"a\", \"b*c\"]
";

    #[test]
    fn every_node_has_its_position() {
        let (v, spans) = parse(DOC).unwrap();
        assert_eq!(v["spec"]["rules"][0]["from"][0]["source"]["principals"][1], "b*c");
        let at = |p: &str| spans.find(p).map(|p| (p.line, p.column));
        assert_eq!(at("kind"), Some((2, 1)), "a field is where its key is");
        assert_eq!(at("spec.rules[0]"), Some((5, 5)), "a list item is where it starts");
        assert_eq!(at("spec.rules[0].from[0].source.principals[1]"), Some((7, 27)));
    }

    #[test]
    fn a_missing_field_points_at_its_nearest_parent() {
        let (_, spans) = parse(DOC).unwrap();
        let missing = spans.find("spec.rules[0].from[0].source.namespaces[0]");
        assert_eq!(missing, spans.find("spec.rules[0].from[0].source"));
        assert!(spans.find("spec.rules[0].from[0].source").is_some());
    }

    #[test]
    fn json_is_read_with_positions_too() {
        let (v, spans) = parse("{\"resources\": [\n  {\"kind\": \"X\"}]}\n").unwrap();
        assert_eq!(v["resources"][0]["kind"], "X");
        assert_eq!(spans.find("resources[0].kind").map(|p| p.line), Some(2));
    }

    #[test]
    fn under_and_offsets_address_one_object_of_a_stream() {
        let (_, spans) = parse("resources:\n- kind: A\n- kind: B\n  spec: {x: 1}\n").unwrap();
        let one = spans.under("resources[1]").starting_at(10);
        assert_eq!(one.find("spec.x").map(|p| p.line), Some(13));
        assert_eq!(one.find("").map(|p| p.line), Some(12));
        assert!(spans.under("resources[1]").find("kind").is_some());
        assert!(spans.under("resources[1").find("kind").is_none());
    }

    #[test]
    fn duplicate_keys_are_refused_and_numbers_kept() {
        assert!(parse("a: 1\na: 2\n").unwrap_err().contains("duplicate"));
        let (v, _) = parse("port: 8080\nratio: 0.5\nneg: -1\nnone: ~\n").unwrap();
        assert_eq!(
            v,
            serde_json::json!({"port": 8080, "ratio": 0.5, "neg": -1, "none": null})
        );
    }
}
