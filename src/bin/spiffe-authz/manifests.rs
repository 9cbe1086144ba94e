//! Kubernetes YAML manifests as `kubectl` users keep them: several documents per file separated
//! by `---`, comments, empty documents, and `kind: List` (what `kubectl get -o yaml` prints).
//! Each object keeps where it came from, so that an error names the file and the document.

use serde_json::Value;

use crate::spans::{self, Spans};

/// One Kubernetes object read from a manifest.
#[derive(Debug)]
pub struct Object {
    /// `policies.yaml document 3 (line 41)`, with ` items[2]` for a member of a List.
    pub origin: String,
    /// The object, as JSON.
    pub value: Value,
    /// The file it came from.
    pub file: String,
    /// Where each of its fields is in that file.
    pub spans: Spans,
}

/// The objects of other kinds than policies (a Deployment, a Service, a Gateway kept in the
/// same file), each with a note naming file, document, kind and name.
pub fn split_policies(objects: Vec<Object>) -> (Vec<Object>, Vec<String>) {
    let mut notes = Vec::new();
    let mut policies = Vec::with_capacity(objects.len());
    for o in objects {
        let text = |k: &str| o.value.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let (api_version, kind) = (text("apiVersion"), text("kind"));
        if spiffe_authz::dialect_of(&api_version, &kind).is_some() {
            policies.push(o);
        } else {
            let name = o.value["metadata"]["name"].as_str().unwrap_or("");
            notes.push(format!(
                "{}: {api_version} {kind} {name:?} is not a policy kind",
                o.origin
            ));
        }
    }
    (policies, notes)
}

/// Reads every object of a YAML (or JSON) stream. `name` is used in messages only.
pub fn read(name: &str, text: &str) -> Result<Vec<Object>, String> {
    let mut out = Vec::new();
    for (n, (line, doc)) in documents(text).into_iter().enumerate() {
        let origin = format!("{name} document {} (line {line})", n + 1);
        // Duplicate keys are refused, as kubectl refuses them.
        let (value, spans) = spans::parse(&doc).map_err(|e| format!("{origin}: not valid YAML: {e}"))?;
        let spans = spans.starting_at(line);
        let at = Place {
            file: name,
            origin,
            spans: &spans,
        };
        flatten(&at, "", value, &mut out)?;
    }
    Ok(out)
}

/// Splits a stream at `---` document markers (at the start of a line, as YAML requires),
/// returning each document with the 1-based line it starts on. Text after the marker on the
/// same line belongs to the document (`--- {a: 1}`).
fn documents(text: &str) -> Vec<(usize, String)> {
    let mut docs = vec![(1, String::new())];
    for (i, line) in text.lines().enumerate() {
        let rest = line
            .strip_prefix("---")
            .filter(|r| r.is_empty() || r.starts_with([' ', '\t']));
        match (rest, docs.last_mut()) {
            (Some(rest), _) => docs.push((i + 1, format!("{rest}\n"))),
            (None, Some((_, doc))) => {
                doc.push_str(line);
                doc.push('\n');
            }
            (None, None) => {}
        }
    }
    // Text before the first marker is a document only if it has content: a file that starts
    // with comments and `---` begins with document 1.
    let blank = |d: &str| {
        d.lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    };
    if docs.len() > 1 && docs.first().is_some_and(|(_, d)| blank(d)) {
        docs.remove(0);
    }
    docs
}

/// Where a document is: its file, its description, its fields' positions.
struct Place<'a> {
    file: &'a str,
    origin: String,
    spans: &'a Spans,
}

/// Empty documents are skipped; a List contributes its items; anything else must be an object
/// with `apiVersion` and `kind`. `path` is the object's place in the document (`items[2]`).
fn flatten(at: &Place<'_>, path: &str, value: Value, out: &mut Vec<Object>) -> Result<(), String> {
    let origin = match path {
        "" => at.origin.clone(),
        p => format!("{} {p}", at.origin),
    };
    let Value::Object(map) = &value else {
        return match value {
            Value::Null => Ok(()),
            other => Err(format!(
                "{origin}: expected a Kubernetes object, found {}",
                type_name(&other)
            )),
        };
    };
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = map.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if kind.is_empty() || api_version.is_empty() {
        return Err(format!(
            "{origin}: not a Kubernetes object (apiVersion and kind are required)"
        ));
    }
    if kind.ends_with("List") {
        if let Some(Value::Array(items)) = map.get("items") {
            for (i, item) in items.iter().enumerate() {
                flatten(at, &spans::join_key(path, &format!("items[{i}]")), item.clone(), out)?;
            }
            return Ok(());
        }
    }
    out.push(Object {
        origin,
        value: strip_bookkeeping(value),
        file: at.file.to_string(),
        spans: at.spans.under(path),
    });
    Ok(())
}

/// Removes what the API server adds and no policy reads (`kubectl get -o yaml` output carries
/// it): `status`, `metadata.managedFields`, and kubectl's last-applied copy of the object.
fn strip_bookkeeping(mut value: Value) -> Value {
    if let Value::Object(map) = &mut value {
        map.remove("status");
        if let Some(Value::Object(meta)) = map.get_mut("metadata") {
            meta.remove("managedFields");
            if let Some(Value::Object(ann)) = meta.get_mut("annotations") {
                ann.remove("kubectl.kubernetes.io/last-applied-configuration");
                if ann.is_empty() {
                    meta.remove("annotations");
                }
            }
        }
    }
    value
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "\
# policies for the backend
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: a
  namespace: shop
spec:
  rules:
  - from:
    - source:
        principals: [\"cluster.local/ns/shop/sa/web\"]
---
# an empty document (comments only)
---
apiVersion: v1
kind: List
items:
- apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: {name: b, managedFields: [{manager: kubectl}],
             annotations: {kubectl.kubernetes.io/last-applied-configuration: \"{}\"}}
  spec: {}
  status: {validationMessages: []}
--- {apiVersion: security.istio.io/v1, kind: AuthorizationPolicy, metadata: {name: c}}
";

    #[test]
    fn multi_document_streams_lists_and_empty_documents() {
        let objs = read("m.yaml", MANIFEST).unwrap();
        let names: Vec<&str> = objs
            .iter()
            .map(|o| o.value["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(objs[0].origin, "m.yaml document 1 (line 1)");
        assert_eq!(objs[1].origin, "m.yaml document 3 (line 14) items[0]");
        assert_eq!(objs[2].origin, "m.yaml document 4 (line 24)");
        assert_eq!(
            objs[0].value["spec"]["rules"][0]["from"][0]["source"]["principals"][0],
            "cluster.local/ns/shop/sa/web"
        );
    }

    #[test]
    fn server_bookkeeping_is_removed() {
        let objs = read("m.yaml", MANIFEST).unwrap();
        let b = &objs[1].value;
        assert!(b.get("status").is_none());
        assert!(b["metadata"].get("managedFields").is_none());
        assert!(b["metadata"].get("annotations").is_none());
    }

    #[test]
    fn errors_name_the_document() {
        let e = read("m.yaml", "kind: A\napiVersion: v1\n---\nfoo: [1\n").unwrap_err();
        assert!(e.starts_with("m.yaml document 2 (line 3): not valid YAML"), "{e}");
        let e = read("m.yaml", "---\n- 1\n").unwrap_err();
        assert!(
            e.contains("document 1 (line 1): expected a Kubernetes object, found a list"),
            "{e}"
        );
        let e = read("m.yaml", "a: 1\na: 2\n").unwrap_err();
        assert!(e.contains("document 1"), "{e}");
        let e = read("m.yaml", "metadata: {name: x}\n").unwrap_err();
        assert!(e.contains("apiVersion and kind are required"), "{e}");
    }

    #[test]
    fn other_kinds_are_split_off_with_file_document_and_kind() {
        let objs = read(
            "m.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\n\
             apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a}\n---\n\
             apiVersion: v1\nkind: Service\nmetadata: {name: web}\n",
        )
        .unwrap();
        let (policies, notes) = split_policies(objs);
        assert_eq!(policies.len(), 1);
        assert_eq!(policies[0].value["kind"], "AuthorizationPolicy");
        assert_eq!(
            notes,
            [
                "m.yaml document 1 (line 1): apps/v1 Deployment \"web\" is not a policy kind",
                "m.yaml document 3 (line 8): v1 Service \"web\" is not a policy kind"
            ]
        );
    }

    #[test]
    fn policy_kinds_are_all_kept() {
        let objs = read(
            "m.yaml",
            "apiVersion: policy.linkerd.io/v1beta3\nkind: Server\nmetadata: {name: s}\n---\n\
             apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: c}\n",
        )
        .unwrap();
        let (policies, notes) = split_policies(objs);
        assert_eq!((policies.len(), notes.len()), (2, 0));
    }

    #[test]
    fn markers_only_at_line_start() {
        let docs = documents("a: '---'\n  ---x\n---\nb: 1\n---\t# c\n");
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[1].0, 3);
        let docs = documents("# header\n---\na: 1\n");
        assert_eq!(docs, [(2, "\na: 1\n".to_string())]);
    }
}
