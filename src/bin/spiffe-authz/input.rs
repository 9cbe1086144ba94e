//! Reading inputs: a file or standard input (`-`), a bundle in JSON or YAML, and the engine's
//! errors and warnings turned into `file:line:column: ...` pointing at the offending field.

use std::io::Read;

use spiffe_authz::{BundleError, Engine, Warning, Workload};

use crate::spans::{self, Pos, Spans};

/// A file's text, or standard input for `-`.
pub fn read_input(path: &str) -> Result<(String, String), String> {
    if path == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("standard input: {e}"))?;
        return Ok(("<stdin>".into(), s));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    Ok((path.to_string(), text))
}

/// A bundle as read: its name for messages, the JSON the engine loads, and the text it came
/// from (for positions).
#[derive(Debug)]
pub struct Source {
    pub name: String,
    pub json: String,
    text: String,
}

/// Reads a bundle from a file or `-`: JSON as is, YAML converted (the filter itself reads JSON).
pub fn read_bundle(path: &str) -> Result<Source, String> {
    let (name, text) = read_input(path)?;
    Source::new(name, text)
}

impl Source {
    pub fn new(name: String, text: String) -> Result<Source, String> {
        if serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok() {
            return Ok(Source {
                name,
                json: text.clone(),
                text,
            });
        }
        let (value, _) = spans::parse(&text).map_err(|e| format!("{name}: neither JSON nor YAML: {e}"))?;
        if !value.is_object() {
            return Err(format!("{name}: a bundle is an object (workload, settings, resources)"));
        }
        Ok(Source {
            name,
            json: value.to_string(),
            text,
        })
    }

    /// The bundle JSON itself (a compact form expanded) and whether it was compact.
    pub fn expanded(&self) -> Result<(std::borrow::Cow<'_, str>, bool), String> {
        let text = spiffe_authz::compact::expand(&self.json).map_err(|e| at(&self.name, None, &e.to_string()))?;
        let compact = matches!(text, std::borrow::Cow::Owned(_));
        Ok((text, compact))
    }

    /// The bundle as a JSON value (a compact form expanded).
    pub fn value(&self) -> Result<serde_json::Value, String> {
        serde_json::from_str(&self.expanded()?.0).map_err(|e| format!("{}: {e}", self.name))
    }

    /// Compiles the bundle as the filter does; an error points at the field in the file.
    pub fn compile(&self) -> Result<Engine, String> {
        Engine::from_json(self.json.as_bytes(), &Workload::default()).map_err(|e| self.locate_error(&e))
    }

    /// `file:line:column: <error>`, or `file: <error>` when the field cannot be found.
    pub fn locate_error(&self, e: &BundleError) -> String {
        match e {
            BundleError::Resource {
                at: res,
                field,
                message,
            } => {
                let pos = resource_path(res).and_then(|r| self.position(&spans::join_key(&r, field), message));
                at(&self.name, pos, &resource_message(res, field, message, pos.is_some()))
            }
            BundleError::Envelope { field, message } => at(&self.name, self.position(field, message), &e.to_string()),
            _ => at(&self.name, None, &e.to_string()),
        }
    }

    /// A warning, located like an error.
    pub fn locate_warning(&self, w: &Warning) -> String {
        let pos = resource_path(&w.at).and_then(|r| self.position(&spans::join_key(&r, &w.field), &w.message));
        at(&self.name, pos, &w.to_string())
    }

    /// Positions are computed only when something is reported (a large bundle loads without).
    fn position(&self, path: &str, message: &str) -> Option<Pos> {
        let (_, spans) = spans::parse(&self.text).ok()?;
        field_position(&spans, path, message)
    }
}

/// The position of `path`; for "unknown field `x`" reported at the object, of the field.
pub fn field_position(spans: &Spans, path: &str, message: &str) -> Option<Pos> {
    unknown_field(message)
        .and_then(|key| spans.find_exact(&spans::join_key(path, key)))
        .or_else(|| spans.find(path))
}

/// `unknown field `notPrincipal`, expected ...` → `notPrincipal`.
fn unknown_field(message: &str) -> Option<&str> {
    let rest = &message[message.find("unknown field `")? + "unknown field `".len()..];
    rest.split('`').next()
}

/// `resources[i] (Kind ns/name): field: message`; serde_json's position in the engine's JSON is
/// left out when the file's own is known.
pub fn resource_message(res: &str, field: &str, message: &str, located: bool) -> String {
    let m = if located {
        without_json_position(message)
    } else {
        message
    };
    match field {
        "" => format!("{res}: {m}"),
        f => format!("{res}: {f}: {m}"),
    }
}

/// The message without serde_json's ` at line 1 column 138`, which counts in the JSON the
/// engine was given, not in the user's file.
pub fn without_json_position(message: &str) -> &str {
    let Some(i) = message.rfind(" at line ") else {
        return message;
    };
    let tail = &message[i + " at line ".len()..];
    let shape = tail.split_once(" column ").is_some_and(|(l, c)| {
        !l.is_empty() && !c.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) && c.bytes().all(|b| b.is_ascii_digit())
    });
    if shape {
        &message[..i]
    } else {
        message
    }
}

/// `resources[12] (AuthorizationPolicy a/b)` → `resources[12]`.
pub fn resource_path(at: &str) -> Option<String> {
    let i = resource_index(at)?;
    Some(format!("resources[{i}]"))
}

/// `resources[12] (...)` → 12.
pub fn resource_index(at: &str) -> Option<usize> {
    at.strip_prefix("resources[")?.split(']').next()?.parse().ok()
}

/// `name:line:column: message`.
pub fn at(name: &str, pos: Option<Pos>, message: &str) -> String {
    format!("{}: {message}", location(name, pos))
}

/// `name:line:column`, or `name` without a position.
pub fn location(name: &str, pos: Option<Pos>) -> String {
    match pos {
        Some(p) => format!("{name}:{p}"),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML_BUNDLE: &str = "\
workload: {namespace: a}
resources:
- apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: {name: p, namespace: a}
  spec:
    rules:
    - from:
      - source:
          serviceAccounts: [ok, \"a*b\"]
";

    #[test]
    fn yaml_bundles_load_and_errors_point_at_the_field() {
        let src = Source::new("b.yaml".into(), YAML_BUNDLE.into()).unwrap();
        let e = src.compile().unwrap_err();
        assert!(
            e.starts_with("b.yaml:10:33: resources[0] (AuthorizationPolicy a/p): spec.rules[0]"),
            "{e}"
        );
    }

    #[test]
    fn json_bundles_are_located_too() {
        let json = "{\"resources\": [{\"apiVersion\": \"security.istio.io/v1\",\n \"kind\": \"AuthorizationPolicy\",\n \"metadata\": {\"name\": \"p\"},\n \"spec\": {\"rules\": [{\"from\": [{\"source\": {\n   \"notPrincipal\": [\"x\"]}}]}]}}]}";
        let src = Source::new("b.json".into(), json.into()).unwrap();
        assert_eq!(src.json, json, "JSON is passed through byte for byte");
        let e = src.compile().unwrap_err();
        assert!(e.starts_with("b.json:5:4: "), "{e}");
        assert!(e.contains("notPrincipal"), "{e}");
        assert!(
            !e.contains("at line"),
            "serde_json's position in the JSON is dropped: {e}"
        );
    }

    #[test]
    fn what_is_neither_json_nor_yaml_is_refused() {
        assert!(Source::new("x".into(), "a: [1".into()).is_err());
        assert!(Source::new("x".into(), "- 1\n".into()).unwrap_err().contains("object"));
    }

    #[test]
    fn resource_indexes() {
        assert_eq!(resource_index("resources[12] (X a/b)"), Some(12));
        assert_eq!(resource_index("bundle"), None);
        assert_eq!(unknown_field("unknown field `x`, expected `y`"), Some("x"));
        assert_eq!(without_json_position("bad at line 1 column 138"), "bad");
        assert_eq!(without_json_position("bad at line one"), "bad at line one");
    }
}
