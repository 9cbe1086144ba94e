//! Rules that are legal but almost certainly not what their author meant. Istio accepts them, so
//! they load; `spiffe-authz validate` prints them and the filter logs them at load.

use super::lower::Notes;
use super::wire::{Action, List, Rule};

fn set(v: &List<'_>) -> bool {
    v.as_ref().is_some_and(|v| !v.is_empty())
}

/// Adds notes (field relative to the rule, message) for `rule` of a policy with `action`.
pub(super) fn rule(rule: &Rule, action: Action, notes: &mut Notes) {
    let mut positive = false;
    let mut negative = Vec::new();
    let mut note_pair = |yes: &List<'_>, no: &List<'_>, name: &str| {
        positive |= set(yes);
        if set(no) {
            negative.push(format!("not{}{}", name[..1].to_ascii_uppercase(), &name[1..]));
        }
    };
    for f in rule.from.iter().flatten() {
        let Some(s) = &f.source else { continue };
        note_pair(&s.principals, &s.not_principals, "principals");
        note_pair(&s.request_principals, &s.not_request_principals, "requestPrincipals");
        note_pair(&s.namespaces, &s.not_namespaces, "namespaces");
        note_pair(&s.service_accounts, &s.not_service_accounts, "serviceAccounts");
        note_pair(&s.ip_blocks, &s.not_ip_blocks, "ipBlocks");
        note_pair(&s.remote_ip_blocks, &s.not_remote_ip_blocks, "remoteIpBlocks");
        note_pair(&s.trust_domains, &s.not_trust_domains, "trustDomains");
    }
    for (i, f) in rule.from.iter().flatten().enumerate() {
        let Some(s) = &f.source else { continue };
        for (name, list) in [("principals", &s.principals), ("notPrincipals", &s.not_principals)] {
            for (j, v) in list.iter().flatten().enumerate() {
                if let Some(bare) = v.strip_prefix(crate::spiffe::SCHEME) {
                    notes.push((
                        format!("from[{i}].source.{name}[{j}]"),
                        format!(
                            "{:?} starts with spiffe://; Istio matches principals without the scheme, so this \
                             never matches (write {bare:?})",
                            &**v
                        ),
                    ));
                }
            }
        }
        for (name, list) in [
            ("principals", &s.principals),
            ("notPrincipals", &s.not_principals),
            ("requestPrincipals", &s.request_principals),
            ("notRequestPrincipals", &s.not_request_principals),
        ] {
            literal_stars(list, &format!("from[{i}].source.{name}"), notes);
        }
    }
    for (i, t) in rule.to.iter().flatten().enumerate() {
        let Some(o) = &t.operation else { continue };
        note_pair(&o.hosts, &o.not_hosts, "hosts");
        note_pair(&o.ports, &o.not_ports, "ports");
        note_pair(&o.methods, &o.not_methods, "methods");
        note_pair(&o.paths, &o.not_paths, "paths");
        let at = format!("to[{i}].operation");
        for (name, list) in [("methods", &o.methods), ("notMethods", &o.not_methods)] {
            for (j, m) in list.iter().flatten().enumerate() {
                if m.bytes().any(|b| b.is_ascii_lowercase()) && &**m != "*" {
                    notes.push((
                        format!("{at}.{name}[{j}]"),
                        format!(
                            "{m:?}: HTTP methods are case-sensitive, so this never matches {:?}",
                            m.to_ascii_uppercase()
                        ),
                    ));
                }
            }
        }
        for (name, list) in [("paths", &o.paths), ("notPaths", &o.not_paths)] {
            for (j, p) in list.iter().flatten().enumerate() {
                if !p.starts_with(['/', '*']) {
                    notes.push((
                        format!("{at}.{name}[{j}]"),
                        format!("{p:?}: request paths start with '/', so this never matches"),
                    ));
                }
                if p.contains(['?', '#']) {
                    notes.push((
                        format!("{at}.{name}[{j}]"),
                        format!("{p:?}: paths are matched without query or fragment, so this never matches"),
                    ));
                }
            }
            if !list.iter().flatten().any(|p| p.contains("{*}") || p.contains("{**}")) {
                literal_stars(list, &format!("{at}.{name}"), notes);
            }
        }
        for (name, list) in [
            ("hosts", &o.hosts),
            ("notHosts", &o.not_hosts),
            ("methods", &o.methods),
            ("notMethods", &o.not_methods),
        ] {
            literal_stars(list, &format!("{at}.{name}"), notes);
        }
    }
    for c in rule.when.iter().flatten() {
        note_pair(&c.values, &c.not_values, "values");
    }
    if action == Action::Allow && !positive && !negative.is_empty() {
        notes.push((
            String::new(),
            format!(
                "an ALLOW rule with only negative fields ({}) allows every request they do not exclude, \
                 unauthenticated ones included; Istio recommends ALLOW with positive fields and DENY with \
                 negative ones",
                negative.join(", ")
            ),
        ));
    }
}

/// Istio reads a `*` that is neither the first nor the last character as itself: say so.
fn literal_stars(list: &List<'_>, at: &str, notes: &mut Notes) {
    for (j, v) in list.iter().flatten().enumerate() {
        let inner = v.strip_prefix('*').unwrap_or(v);
        let inner = inner.strip_suffix('*').unwrap_or(inner);
        if &**v != "*" && inner.contains('*') {
            notes.push((
                format!("{at}[{j}]"),
                format!(
                    "{:?}: Istio reads a '*' that is neither the first nor the last character as itself, so this \
                     matches only that exact text",
                    &**v
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notes(action: Action, rule: &str) -> Vec<(String, String)> {
        let r: Rule = serde_json::from_str(rule).unwrap();
        let mut n = Notes::new();
        super::rule(&r, action, &mut n);
        n
    }

    #[test]
    fn allow_with_only_negative_fields_warns() {
        let n = notes(
            Action::Allow,
            r#"{"from": [{"source": {"notNamespaces": ["evil"]}}], "to": [{"operation": {"notPaths": ["/admin"]}}]}"#,
        );
        assert_eq!(n.len(), 1);
        assert!(
            n[0].1.contains("only negative fields (notNamespaces, notPaths)"),
            "{n:?}"
        );
    }

    #[test]
    fn allow_with_a_positive_field_or_deny_does_not_warn() {
        let mixed = r#"{"from": [{"source": {"namespaces": ["shop"], "notPrincipals": ["x/ns/shop/sa/bad"]}}]}"#;
        assert!(notes(Action::Allow, mixed).is_empty());
        let neg = r#"{"from": [{"source": {"notNamespaces": ["shop"]}}]}"#;
        assert!(notes(Action::Deny, neg).is_empty());
        assert!(notes(Action::Allow, "{}").is_empty());
    }

    #[test]
    fn lowercase_methods_and_relative_paths_never_match() {
        let n = notes(
            Action::Deny,
            r#"{"to": [{"operation": {"methods": ["get", "POST"], "paths": ["api/*", "/ok", "*.css"]}}]}"#,
        );
        let fields: Vec<&str> = n.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["to[0].operation.methods[0]", "to[0].operation.paths[0]"]);
    }
}
