//! Rule-by-rule tables: each rule of acl.go with a positive and a negative case.

use crate::decision::Effect;
use crate::error::BundleError;
use crate::{Engine, Peer, Request, Workload};

fn bundle(specs: &[(&str, &str)], settings: &str) -> String {
    let res: Vec<String> = specs
        .iter()
        .map(|(name, spec)| {
            format!(
                r#"{{"apiVersion": "dapr.io/v1alpha1", "kind": "Configuration",
                    "metadata": {{"name": "{name}", "namespace": "default"}}, "spec": {spec}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"workload": {{"namespace": "default", "appId": "target", "trustDomain": "public"}},
             "settings": {settings}, "resources": [{}]}}"#,
        res.join(",")
    )
}

fn engine(spec: &str) -> Engine {
    Engine::from_json(bundle(&[("appconfig", spec)], "{}").as_bytes(), &Workload::default())
        .unwrap_or_else(|e| panic!("{e}\n{spec}"))
}

fn refused(spec: &str) -> BundleError {
    Engine::from_json(bundle(&[("appconfig", spec)], "{}").as_bytes(), &Workload::default()).unwrap_err()
}

fn req(peer: Option<&str>, method: &str, path: &str, grpc: bool) -> Request {
    let mut r = Request::new(method, path);
    r.peer = peer.map_or(Peer::Unauthenticated, Peer::from_uri_san);
    r.grpc = grpc;
    r
}

/// (caller, method, path, grpc, allowed?)
type Row<'a> = (Option<&'a str>, &'a str, &'a str, bool, bool);

fn table(spec: &str, rows: &[Row<'_>]) {
    let e = engine(spec);
    for (peer, m, p, grpc, want) in rows {
        let req_ = req(*peer, m, p, *grpc);
        let d = e.evaluate(&req_);
        assert_eq!(
            d.verdict.effect == Effect::Allow,
            *want,
            "{peer:?} {m} {p} grpc={grpc}: {}\n{spec}",
            d.verdict.reason
        );
    }
}

const APP1: Option<&str> = Some("spiffe://public/ns/default/app1");
const APP2: Option<&str> = Some("spiffe://public/ns/default/app2");

#[test]
fn no_access_control_allows_every_call() {
    for spec in [
        r#"{}"#,
        r#"{"tracing": {"samplingRate": "1"}}"#,
        r#"{"accessControl": {}}"#,
    ] {
        table(
            spec,
            &[(APP1, "POST", "/x", false, true), (None, "GET", "/", false, true)],
        );
    }
}

#[test]
fn global_default_missing_is_deny_with_policies_allow_without() {
    // Only a trust domain: Dapr's loader keeps its default configuration's allow (acl.go's
    // `AppPolicies == nil` deny is never reached), as the docs' rule 2 says.
    table(
        r#"{"accessControl": {"trustDomain": "public"}}"#,
        &[(APP1, "GET", "/x", false, true), (None, "GET", "/x", false, true)],
    );
    table(
        r#"{"accessControl": {"trustDomain": "public", "policies": []}}"#,
        &[(APP1, "GET", "/x", false, true)],
    );
    let p = r#"{"accessControl": {"policies": [{"appId": "app1", "trustDomain": "public", "namespace": "default"}]}}"#;
    table(
        p,
        &[(APP1, "GET", "/x", false, false), (APP2, "GET", "/x", false, false)],
    );
    let p = r#"{"accessControl": {"defaultAction": "ALLOW", "policies": [{"appId": "app1", "trustDomain": "public", "namespace": "default", "defaultAction": "deny"}]}}"#;
    table(
        p,
        &[(APP1, "GET", "/x", false, false), (APP2, "GET", "/x", false, true)],
    );
}

#[test]
fn an_operation_without_name_or_action_is_refused_as_the_crd_does() {
    for (ops, field) in [
        (r#"[{"name": "/a", "httpVerb": ["GET"]}]"#, "operations[0].action"),
        (
            r#"[{"name": "/a", "action": "allow"}, {"action": "deny"}]"#,
            "operations[1].name",
        ),
    ] {
        let spec = format!(
            r#"{{"accessControl": {{"policies": [{{"appId": "a", "trustDomain": "public", "namespace": "default", "operations": {ops}}}]}}}}"#
        );
        let e = refused(&spec).to_string();
        assert!(
            e.contains(&format!("spec.accessControl.policies[0].{field}: is required")),
            "{e}"
        );
        assert!(e.contains("Configuration CRD"), "{e}");
    }
}

#[test]
fn an_operation_with_an_empty_action_loads_and_denies() {
    table(
        r#"{"accessControl": {"defaultAction": "allow", "policies": [{"appId": "app1", "trustDomain": "public", "namespace": "default", "operations": [{"name": "/a", "action": ""}]}]}}"#,
        &[(APP1, "POST", "/a", true, false), (APP1, "POST", "/b", true, true)],
    );
}

#[test]
fn a_policy_missing_a_required_field_refuses_the_whole_spec() {
    let cases = [
        (
            r#"{"accessControl": {"policies": [{"appId": "app1", "namespace": "ns1"}]}}"#,
            "spec.accessControl.policies[0].trustDomain",
            "missing trustdomain for apps: [app1], missing namespace for apps: [], missing app name on at least one of the app policies: false",
        ),
        (
            r#"{"accessControl": {"policies": [{"appId": "app1", "namespace": "ns1", "trustDomain": "public"}, {"appId": "app2", "trustDomain": "d"}]}}"#,
            "spec.accessControl.policies[1].namespace",
            "missing trustdomain for apps: [], missing namespace for apps: [app2], missing app name on at least one of the app policies: false",
        ),
        (
            r#"{"accessControl": {"policies": [{"trustDomain": "d", "namespace": "n"}]}}"#,
            "spec.accessControl.policies[0].appId",
            "missing app name on at least one of the app policies: true",
        ),
    ];
    for (spec, field, text) in cases {
        match refused(spec) {
            BundleError::Resource { field: f, message, .. } => {
                assert_eq!(f, field);
                assert!(message.contains("invalid access control spec."), "{message}");
                assert!(message.contains(text), "{message}");
            }
            e => panic!("{e}"),
        }
    }
}

#[test]
fn unknown_fields_are_refused_by_name() {
    let e = refused(r#"{"accessControl": {"policies": [{"app": "app1"}]}}"#);
    assert!(e.to_string().contains("spec.accessControl.policies[0].app"), "{e}");
    let e = refused(r#"{"accessControll": {}}"#);
    assert!(e.to_string().contains("accessControll"), "{e}");
}

const SCOPED: &str = r#"{"accessControl": {"defaultAction": "deny", "policies": [
    {"appId": "app1", "trustDomain": "public", "namespace": "default", "defaultAction": "allow"}]}}"#;

#[test]
fn caller_identity_as_dapr_parses_it() {
    table(
        SCOPED,
        &[
            (APP1, "GET", "/x", false, true),
            // Extra path segments are ignored by Dapr ("we may want to add more identifiers").
            (Some("spiffe://public/ns/default/app1/extra"), "GET", "/x", false, true),
            // An Istio identity is app `sa` to Dapr.
            (Some("spiffe://public/ns/default/sa/app1"), "GET", "/x", false, false),
            // No certificate: the global default (deny here).
            (None, "GET", "/x", false, false),
        ],
    );
    let open = r#"{"accessControl": {"defaultAction": "allow", "policies": [
        {"appId": "sa", "trustDomain": "public", "namespace": "default", "defaultAction": "deny"}]}}"#;
    table(
        open,
        &[
            // No certificate: the global default (allow here).
            (None, "GET", "/x", false, true),
            (
                Some("spiffe://public/ns/default/sa/anything"),
                "GET",
                "/x",
                false,
                false,
            ),
            // Malformed: refused even though the global default allows.
            (Some("spiffe://public/ns/default"), "GET", "/x", false, false),
            (Some("spiffe://public/apps/default/app1"), "GET", "/x", false, false),
            (Some("spiffe://public"), "GET", "/x", false, false),
            (Some("spiffe://public/ns/default/app1"), "GET", "/x", false, true),
        ],
    );
}

#[test]
fn policy_lookup_by_app_and_namespace_with_trust_domain() {
    table(
        SCOPED,
        &[
            (APP1, "GET", "/x", false, true),
            (Some("spiffe://public/ns/other/app1"), "GET", "/x", false, false),
            (Some("spiffe://mydomain/ns/default/app1"), "GET", "/x", false, false),
            (APP2, "GET", "/x", false, false),
        ],
    );
}

const OPS: &str = r#"{"accessControl": {"defaultAction": "deny", "policies": [
    {"appId": "app1", "trustDomain": "public", "namespace": "default", "defaultAction": "deny",
     "operations": [
        {"name": "/op1", "httpVerb": ["POST", "PUT"], "action": "allow"},
        {"name": "Op2", "httpVerb": ["*"], "action": "allow"},
        {"name": "/op3", "httpVerb": ["GET"], "action": "deny"},
        {"name": "/op3", "httpVerb": ["*"], "action": "allow"},
        {"name": "/op4", "httpVerb": ["GET", "*"], "action": "allow"},
        {"name": "/op5", "httpVerb": ["GET"], "action": ""},
        {"name": "/helloworld.Greeter/SayHello", "action": "allow"},
        {"name": "/none", "httpVerb": ["*"], "action": "allow"}]},
    {"appId": "app2", "trustDomain": "public", "namespace": "default",
     "operations": [{"name": "/op1", "httpVerb": ["*"], "action": "allow"}]}]}}"#;

#[test]
fn http_verb_then_star_then_defaults() {
    table(
        OPS,
        &[
            (APP1, "POST", "/op1", false, true),
            (APP1, "GET", "/op1", false, false),
            // The name gets its leading slash; HTTP lowercases both sides.
            (APP1, "DELETE", "/op2", false, true),
            (APP1, "DELETE", "/OP2", false, true),
            (APP1, "POST", "/OP1", false, true),
            // The first operation of a name wins: the second /op3 is never seen.
            (APP1, "GET", "/op3", false, false),
            (APP1, "POST", "/op3", false, false),
            (APP1, "GET", "/op4", false, true),
            (APP1, "PATCH", "/op4", false, true),
            // A listed verb without action: "" is not allow.
            (APP1, "GET", "/op5", false, false),
            // A plain operation covers the paths below it.
            (APP1, "POST", "/op1/sub/path", false, true),
            (APP1, "POST", "/op9", false, false),
            // No app defaultAction: the global one (deny) stands when no verb matches.
            (APP2, "GET", "/op1", false, true),
            (APP2, "GET", "/op2", false, false),
        ],
    );
}

#[test]
fn verbs_as_dapr_names_them() {
    table(
        OPS,
        &[
            // Methods are uppercased; one Dapr has no name for is POST.
            (APP1, "post", "/op1", false, true),
            (APP1, "PROPFIND", "/op1", false, true),
            (APP1, "PROPFIND", "/op4", false, true),
            // NONE: the app's defaultAction, whatever the operation says.
            (APP1, "NONE", "/none", false, false),
            (APP1, "GET", "/none", false, true),
        ],
    );
}

#[test]
fn grpc_uses_the_operation_action_case_sensitively() {
    table(
        OPS,
        &[
            (APP1, "POST", "/helloworld.Greeter/SayHello", true, true),
            (APP1, "POST", "/helloworld.greeter/sayhello", true, false),
            (APP1, "POST", "/helloworld.Greeter/SayBye", true, false),
            // Over HTTP the same operation has no verbs: the app default (deny) stands...
            (APP1, "POST", "/helloworld.Greeter/SayHello", false, false),
            // ...and HTTP lowercases, so this one never matches over gRPC.
            (APP1, "POST", "/OP2", true, false),
            (APP1, "POST", "/op2", true, false),
            (APP1, "POST", "/Op2", true, true),
            // An operation listing verbs decides gRPC by its action, verbs ignored.
            (APP1, "GET", "/op3", true, false),
        ],
    );
}

#[test]
fn methods_are_normalized_as_dapr_normalizes_them() {
    let allow_all = r#"{"accessControl": {"defaultAction": "allow", "policies": [
        {"appId": "app1", "trustDomain": "public", "namespace": "default",
         "operations": [{"name": "/admin", "httpVerb": ["*"], "action": "deny"}]}]}}"#;
    table(
        allow_all,
        &[
            (APP1, "GET", "/public", false, true),
            (APP1, "GET", "/admin", false, false),
            (APP1, "GET", "/public/../admin", false, false),
            (APP1, "GET", "/public/../public", false, true),
            (APP1, "GET", "/public/", false, true),
            (APP1, "GET", "/ADMIN/", false, false),
            // #9805: forbidden characters and encoded traversal are refused outright.
            (APP1, "GET", "/public%23x", false, false),
            (APP1, "GET", "/public%3Fx", false, false),
        ],
    );
}

#[test]
fn the_last_policy_for_an_app_and_namespace_wins() {
    let spec = r#"{"accessControl": {"defaultAction": "deny", "policies": [
        {"appId": "app1", "trustDomain": "public", "namespace": "default", "defaultAction": "allow"},
        {"appId": "app1", "trustDomain": "public", "namespace": "default", "defaultAction": "deny"}]}}"#;
    table(spec, &[(APP1, "GET", "/x", false, false)]);
    let e = engine(spec);
    assert!(e
        .warnings()
        .iter()
        .any(|w| w.message.contains("keeps only this later one")));
}

#[test]
fn first_match_in_insertion_order_within_a_policy() {
    let spec = r#"{"accessControl": {"defaultAction": "allow", "policies": [
        {"appId": "app1", "trustDomain": "public", "namespace": "default",
         "operations": [
            {"name": "/api/*", "httpVerb": ["*"], "action": "deny"},
            {"name": "/api/public", "httpVerb": ["*"], "action": "allow"},
            {"name": "/v*/x", "httpVerb": ["*"], "action": "deny"},
            {"name": "/v1/y", "httpVerb": ["*"], "action": "deny"}]}]}}"#;
    table(
        spec,
        &[
            // The wildcard came first: it shadows the exact sibling.
            (APP1, "GET", "/api/public", false, false),
            (APP1, "GET", "/api", false, false),
            (APP1, "GET", "/api/a/b", false, true),
            // No backtracking: `/v*` is chosen for `v1`, which has no `y`: no operation matches.
            (APP1, "GET", "/v1/y", false, true),
            (APP1, "GET", "/v1/x", false, false),
        ],
    );
}

#[test]
fn verdicts_name_the_configuration_and_policy() {
    let e = engine(OPS);
    let req_ = req(APP1, "POST", "/op1", false);
    let d = e.evaluate(&req_);
    let by = d.verdict.by().expect("names the rule");
    assert_eq!(by.to_string(), "Configuration default/appconfig rule 0");
    assert!(
        d.verdict.reason.to_string().contains("operations[0] /op1"),
        "{}",
        d.verdict.reason
    );
    let req_ = req(Some("spiffe://public/ns/default/app9"), "POST", "/op1", false);
    let d = e.evaluate(&req_);
    assert_eq!(d.verdict.by().map(|b| b.rule), Some(None));
    let r = req(APP2, "GET", "/op1", false);
    let x = e.explain(&r);
    let lines = &x.layers[0].lines;
    let text = lines.join("\n");
    for want in [
        "policy lookup app2||default",
        "trust domain \"public\": matches",
        "matches operations[0]",
        "verb GET",
    ] {
        assert!(text.contains(want), "{want} in\n{text}");
    }
}

#[test]
fn the_configuration_is_selected_like_the_sidecar_selects_it() {
    let two = [("a", SCOPED), ("b", r#"{"accessControl": {"defaultAction": "allow"}}"#)];
    let err = Engine::from_json(bundle(&two, "{}").as_bytes(), &Workload::default()).unwrap_err();
    assert!(err.to_string().contains("settings.dapr.config"), "{err}");
    for (pick, want) in [("a", false), ("b", true)] {
        let settings = format!(r#"{{"dapr": {{"config": "{pick}"}}}}"#);
        let e = Engine::from_json(bundle(&two, &settings).as_bytes(), &Workload::default()).unwrap();
        assert_eq!(e.evaluate(&req(APP2, "GET", "/x", false)).allowed(), want, "{pick}");
    }
    let err = Engine::from_json(
        bundle(&two, r#"{"dapr": {"config": "c"}}"#).as_bytes(),
        &Workload::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no Configuration \"c\""), "{err}");
}

#[test]
fn an_uppercase_trust_domain_never_matches_a_caller() {
    // The docs' scenario 3 and hello-world use 'myDomain': SPIFFE trust domains are lowercase
    // (go-spiffe refuses the certificate), and acl.go compares the policy's value verbatim.
    let spec = r#"{"accessControl": {"defaultAction": "allow", "trustDomain": "public", "policies": [
        {"appId": "pythonapp", "trustDomain": "myDomain", "namespace": "default", "defaultAction": "allow",
         "operations": [{"name": "/neworder", "httpVerb": ["POST"], "action": "deny"}]}]}}"#;
    let e = engine(spec);
    assert!(e
        .warnings()
        .iter()
        .any(|w| w.field.ends_with("trustDomain") && w.message.contains("never applies")));
    table(
        spec,
        &[
            // Not a SPIFFE ID (upper case): Dapr's mTLS refuses such a certificate.
            (
                Some("spiffe://myDomain/ns/default/pythonapp"),
                "POST",
                "/neworder",
                false,
                false,
            ),
            (
                Some("spiffe://mydomain/ns/default/pythonapp"),
                "POST",
                "/neworder",
                false,
                true,
            ),
        ],
    );
}

#[test]
fn several_configurations_load_when_none_has_access_control() {
    let none = [("a", r#"{"tracing": {}}"#), ("b", r#"{}"#)];
    let e = Engine::from_json(bundle(&none, "{}").as_bytes(), &Workload::default()).unwrap();
    assert!(e.evaluate(&req(APP1, "GET", "/x", false)).verdict.effect == Effect::Allow);
    let acl = [("a", r#"{}"#), ("b", r#"{"accessControl": {"defaultAction": "deny"}}"#)];
    let err = Engine::from_json(bundle(&acl, "{}").as_bytes(), &Workload::default()).unwrap_err();
    assert!(err.to_string().contains("several Dapr Configurations apply"), "{err}");
}
