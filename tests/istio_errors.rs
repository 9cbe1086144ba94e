//! Bad Istio policies are refused with an error naming the resource, the field and the problem;
//! legal-but-suspicious ones load with a warning.

use spiffe_authz::{Engine, Workload};

fn bundle(spec: &str) -> String {
    format!(
        r#"{{"workload": {{"namespace": "ns1", "labels": {{"app": "a"}}}}, "resources": [
        {{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
          "metadata": {{"name": "p", "namespace": "ns1"}}, "spec": {spec}}}]}}"#
    )
}

fn error_of(json: &str) -> String {
    match Engine::from_json(json.as_bytes(), &Workload::default()) {
        Ok(_) => panic!("bundle should be refused: {json}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn refused_with_resource_field_and_reason() {
    let cases: &[(&str, &str, &str)] = &[
        (
            r#"{"action": "CUSTOM", "provider": {"name": "ext"}}"#,
            "spec.action",
            "external authorizer",
        ),
        (
            r#"{"action": "ALLOW", "provider": {"name": "ext"}}"#,
            "spec.provider",
            "`provider` must not be with non CUSTOM action",
        ),
        (r#"{"action": "PERMIT"}"#, "spec.action", "unknown variant"),
        (
            r#"{"rules": [{"from": [{"source": {"principal": ["x"]}}]}]}"#,
            "spec.rules[0].from[0].source",
            "unknown field `principal`",
        ),
        (
            r#"{"rules": [{"from": [{}]}]}"#,
            "spec.rules[0].from[0].source",
            "`from.source` must not be nil",
        ),
        (
            r#"{"rules": [{"from": [{"source": {}}]}]}"#,
            "spec.rules[0].from[0].source",
            "must not be empty",
        ),
        (
            r#"{"rules": [{"to": [{"operation": {}}]}]}"#,
            "spec.rules[0].to[0].operation",
            "must not be empty",
        ),
        (
            r#"{"rules": [{"from": [{"source": {"serviceAccounts": ["ns/a*b"]}}]}]}"#,
            "source.serviceAccounts[0]",
            "wildcard not allowed",
        ),
        (
            r#"{"rules": [{"from": [{"source": {"principals": [""]}}]}]}"#,
            "source.principals[0]",
            "empty value not allowed",
        ),
        (
            r#"{"rules": [{"from": [{"source": {"requestPrincipals": [""]}}]}]}"#,
            "source.requestPrincipals[0]",
            "empty value not allowed",
        ),
        (
            r#"{"rules": [{"from": [{"source": {"ipBlocks": ["10.0.0.0/40"]}}]}]}"#,
            "source.ipBlocks[0]",
            "bad IP address (10.0.0.0/40)",
        ),
        (
            r#"{"rules": [{"from": [{"source": {"notIpBlocks": ["nope"]}}]}]}"#,
            "source.notIpBlocks[0]",
            "bad IP address (nope)",
        ),
        (
            r#"{"rules": [{"from": [{"source": {"principals": ["a"], "serviceAccounts": ["ns/sa"]}}]}]}"#,
            "source.serviceAccounts",
            "cannot set serviceAccounts with namespaces or principals",
        ),
        (
            r#"{"rules": [{"from": [{"source": {"serviceAccounts": ["a/b/c"]}}]}]}"#,
            "source.serviceAccounts[0]",
            "expected format 'serviceAccount' or 'namespace/serviceAccount'",
        ),
        (
            r#"{"rules": [{"to": [{"operation": {"ports": ["http"]}}]}]}"#,
            "operation.ports[0]",
            "bad port (http)",
        ),
        (
            r#"{"rules": [{"to": [{"operation": {"paths": ["/a/{**}/{*}"]}}]}]}"#,
            "operation.paths[0]",
            "{**} is not the last operator",
        ),
        (
            r#"{"rules": [{"to": [{"operation": {"paths": ["/a/x{*}"]}}]}]}"#,
            "operation.paths[0]",
            "beyond a supported path template",
        ),
        (
            r#"{"rules": [{"to": [{"operation": {"notPaths": ["/a/{*}/*"]}}]}]}"#,
            "operation.notPaths[0]",
            "invalid string literal",
        ),
        (
            r#"{"rules": [{"when": [{"key": "request.headers[x]"}]}]}"#,
            "spec.rules[0].when[0].values",
            "at least one of `values` or `notValues` must be set for key request.headers[x]",
        ),
        (
            r#"{"rules": [{"when": [{"key": "request.colour", "values": ["x"]}]}]}"#,
            "spec.rules[0].when[0].key",
            "unknown attribute: request.colour",
        ),
        (
            r#"{"rules": [{"when": [{"key": "request.auth.claims.iss", "values": ["x"]}]}]}"#,
            "when[0].key",
            "bad key (request.auth.claims.iss): should have format a[b]",
        ),
        (
            r#"{"rules": [{"when": [{"key": "experimental.envoy.filters.x", "values": ["x"]}]}]}"#,
            "when[0].key",
            "bad key (experimental.envoy.filters.x)",
        ),
        (
            r#"{"rules": [{"when": [{"key": "destination.port", "notValues": ["x"]}]}]}"#,
            "when[0].notValues[0]",
            "bad port (x)",
        ),
    ];
    for (spec, field, reason) in cases {
        let e = error_of(&bundle(spec));
        assert!(
            e.starts_with("resources[0] (AuthorizationPolicy ns1/p): "),
            "{spec}: {e}"
        );
        assert!(e.contains(field), "{spec}: expected field {field:?} in {e}");
        assert!(e.contains(reason), "{spec}: expected {reason:?} in {e}");
    }
}

#[test]
fn broken_policies_are_refused_even_when_they_select_another_workload() {
    let json = r#"{"workload": {"namespace": "ns1"}, "resources": [
        {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
         "metadata": {"name": "p", "namespace": "elsewhere"}, "spec": {"action": "CUSTOM"}}]}"#;
    assert!(error_of(json).contains("spec.action"));
}

#[test]
fn envelope_errors_name_the_field() {
    let cases: &[(&str, &str)] = &[
        ("not json", "bundle: "),
        ("[]", "expected a JSON object"),
        (r#"[{"namespace": "a"}, {}, []]"#, "expected a JSON object"),
        (r#"{"workload": {"namespace": 3}}"#, "workload.namespace"),
        (r#"{"settings": {"defaultAction": "maybe"}}"#, "settings.defaultAction"),
        (
            r#"{"settings": {"trustDomainAliases": ["a/b"]}}"#,
            "settings.trustDomainAliases[0]",
        ),
        (r#"{"resourcez": []}"#, "unknown field `resourcez`"),
        (
            r#"{"resources": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}]}"#,
            "not a supported policy kind",
        ),
        (
            r#"{"resources": [{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "metadata": {}}]}"#,
            "metadata.name",
        ),
        (r#"{"resources": [3]}"#, "resources[0]"),
    ];
    for (json, want) in cases {
        let e = error_of(json);
        assert!(e.contains(want), "{json}: expected {want:?} in {e}");
    }
}

#[test]
fn suspicious_policies_load_with_warnings() {
    let json = bundle(r#"{"rules": [{"to": [{"operation": {"paths": ["/a?b=1"]}}]}]}"#);
    let e = Engine::from_json(json.as_bytes(), &Workload::default()).expect("loads");
    let w: Vec<String> = e.warnings().iter().map(|w| w.to_string()).collect();
    assert!(
        w.iter()
            .any(|w| w.contains("spec.rules[0].to[0].operation.paths[0]") && w.contains("never matches")),
        "{w:?}"
    );
}

#[test]
fn a_policy_for_another_workload_is_reported() {
    let json = r#"{"workload": {"namespace": "ns1", "labels": {"app": "a"}}, "resources": [
        {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
         "metadata": {"name": "p", "namespace": "ns1"}, "spec": {"selector": {"matchLabels": {"app": "b"}}}}]}"#;
    let e = Engine::from_json(json.as_bytes(), &Workload::default()).expect("loads");
    let w: Vec<String> = e.warnings().iter().map(|w| w.to_string()).collect();
    assert!(w.iter().any(|w| w.contains("does not select this workload")), "{w:?}");
    assert!(w.iter().any(|w| w.contains("Istio allows every request")), "{w:?}");
}
