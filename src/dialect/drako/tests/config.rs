//! Configuration errors: each names the resource, the field and why.

use serde_json::{json, Value};

use super::*;

#[test]
fn configuration_errors_name_the_field_and_why() {
    let refused = |t: &str, key: &str| policy("p", json!({"type": t, "spec": {key: {}}}));
    let cases: Vec<(Vec<Value>, &[&str])> = vec![
        (
            vec![refused("Group", "group")],
            &["DrakoPolicy shop/p", "spec.type", "Group", "user session"],
        ),
        (vec![refused("Keycloak", "keycloak")], &["Keycloak", "external service"]),
        (vec![refused("Consent", "consent")], &["Consent", "external service"]),
        (
            vec![refused("MappingComparison", "mappingComparison")],
            &["MappingComparison", "user session"],
        ),
        (
            vec![refused("AuthorizedParties", "authorizedParties")],
            &["AuthorizedParties", "validated token"],
        ),
        (vec![refused("Audience", "audience")], &["Audience", "validated token"]),
        (
            vec![policy(
                "p",
                json!({"type": "ClientGroup", "spec": {"origin": {"allowed": []}}}),
            )],
            &["spec.spec", "clientGroup"],
        ),
        (
            vec![policy(
                "p",
                json!({"type": "Source", "spec": {"source": {"namespace": "{realm}-ns"}}}),
            )],
            &["mapped values"],
        ),
        (
            vec![policy(
                "p",
                json!({"type": "Origin", "spec": {"origin": {"allowed": ["nope"]}}}),
            )],
            &["spec.spec.origin.allowed", "nope"],
        ),
        (
            vec![policy("p", json!({"type": "AllowAll", "extra": 1}))],
            &["unknown field `extra`"],
        ),
        (
            vec![binding(
                "b",
                json!({"authenticationMode": "Oauth2", "policies": [], "decisionStrategy": "true"}),
            )],
            &[
                "DrakoPolicyBinding shop/b",
                "spec.authenticationMode",
                "Oauth2",
                "only `None`",
            ],
        ),
        (
            vec![binding("b", json!({"authenticationMode": "SingleUseToken"}))],
            &["SingleUseToken"],
        ),
        (vec![binding("b", json!({"authenticationMode": "Legacy"}))], &["Legacy"]),
        (
            vec![binding("b", json!({"authenticationMode": "FederatedIdentityService"}))],
            &["FederatedIdentityService"],
        ),
        (
            vec![binding(
                "b",
                json!({"authenticationMode": null, "decisionStrategy": "true"}),
            )],
            &["spec.authenticationMode", "is required"],
        ),
        (
            vec![binding(
                "b",
                json!({"destinationServiceAccounts": [], "decisionStrategy": "true"}),
            )],
            &["spec.destinationServiceAccounts"],
        ),
        (
            simple("p &&", &[("p", allow_all())]),
            &["spec.decisionStrategy", "column 5"],
        ),
        (
            simple("p & q", &[("p", allow_all()), ("q", allow_all())]),
            &["column 3", "`&&`"],
        ),
        (
            vec![
                policy("p", allow_all()),
                binding("b", json!({"policies": ["p", "q"], "decisionStrategy": "p || r"})),
            ],
            &["listed but not used [\"q\"]", "used but not listed [\"r\"]"],
        ),
        (
            vec![binding(
                "b",
                json!({"policies": ["missing"], "decisionStrategy": "missing"}),
            )],
            &["spec.policies[0]", "shop/missing", "not in the bundle"],
        ),
        (
            vec![binding(
                "b",
                json!({"paths": ["/a", "api/*"], "decisionStrategy": "true"}),
            )],
            &["spec.paths[1]", "\"api/*\" must start with `/`"],
        ),
        (
            vec![binding("b", json!({"paths": [], "decisionStrategy": "true"}))],
            &["spec.paths", "is empty"],
        ),
        (
            vec![binding(
                "b",
                json!({"destinationHosts": [{"hostname": "svc:8080"}], "decisionStrategy": "true"}),
            )],
            &["spec.destinationHosts[0].hostname", "`port`"],
        ),
        (
            vec![binding(
                "b",
                json!({"destinationHosts": [{"hostname": "svc", "port": 0}], "decisionStrategy": "true"}),
            )],
            &["spec.destinationHosts[0].port"],
        ),
        (
            vec![binding(
                "b",
                json!({"mapping": {"paths": ["/u/:id"]}, "decisionStrategy": "true"}),
            )],
            &["spec.mapping"],
        ),
        (
            vec![binding(
                "b",
                json!({"injectHeaders": [{"type": "Group", "spec": {"group": {"policy": "p"}}}], "decisionStrategy": "true"}),
            )],
            &["spec.injectHeaders[0].type", "user session"],
        ),
        (
            vec![binding(
                "b",
                json!({"authorizedParties": ["x"], "decisionStrategy": "true"}),
            )],
            &["unknown field `authorizedParties`"],
        ),
    ];
    for (rs, want) in cases {
        let err = match engine(rs.clone()) {
            Err(e) => e,
            Ok(_) => panic!("accepted: {rs:?}"),
        };
        for w in want {
            assert!(err.contains(w), "{err}\n  should contain {w:?}");
        }
    }
}

pub(super) fn import(ns: &str, name: &str) -> Value {
    json!({"type": "Import", "spec": {"import": {"namespace": ns, "name": name}}})
}

pub(super) fn exported(to: &[&str]) -> Value {
    let to: Vec<Value> = to.iter().map(|n| json!({"namespace": n})).collect();
    json!({"type": "ClientGroup", "exportTo": to, "spec": {"clientGroup": {"clientList": [{"type": "SpiffeId", "value": FOO}]}}})
}

#[test]
pub(super) fn imports_follow_drakos_validations() {
    let target = |spec: Value| obj("DrakoPolicy", "partners", "partner-clients", spec);
    let user = |rs: Vec<Value>| {
        let mut rs = rs;
        rs.push(binding("b", json!({"policies": ["imp"], "decisionStrategy": "imp"})));
        engine(rs)
    };
    // Exported to this namespace: allowed, and decides like the target.
    let e = user(vec![
        target(exported(&["shop"])),
        policy("imp", import("partners", "partner-clients")),
    ])
    .unwrap();
    assert!(allowed(&e, &req(Some(FOO), "GET", "/")));
    assert!(!allowed(&e, &req(Some(BAR), "GET", "/")));
    let errs: Vec<(Vec<Value>, &str)> = vec![
        (
            vec![
                target(exported(&["other"])),
                policy("imp", import("partners", "partner-clients")),
            ],
            "imports DrakoPolicy partners/partner-clients, which is not exported to namespace shop",
        ),
        (
            vec![policy("imp", import("partners", "partner-clients"))],
            "partners/partner-clients, which is not in the bundle",
        ),
        (
            vec![
                target(
                    json!({"type": "Import", "exportTo": [{"namespace": "shop"}], "spec": {"import": {"namespace": "x", "name": "y"}}}),
                ),
                policy("imp", import("partners", "partner-clients")),
            ],
            "an Import policy cannot be exported",
        ),
        (
            vec![policy("local", allow_all()), policy("imp", import("shop", "local"))],
            "imports from its own namespace",
        ),
    ];
    for (rs, want) in errs {
        let err = user(rs).err().unwrap_or_default();
        assert!(err.contains(want), "{err}\n  should contain {want:?}");
    }
    // A nested import is refused at the importer (the exported Import is refused first).
    let nested = vec![
        obj("DrakoPolicy", "partners", "inner", exported(&["shop"])),
        obj("DrakoPolicy", "mid", "relay", import("partners", "inner")),
        policy("imp", import("mid", "relay")),
    ];
    let err = user(nested).err().unwrap_or_default();
    assert!(
        err.contains("not exported to namespace mid") || err.contains("itself an Import"),
        "{err}"
    );
}

#[test]
fn warnings_flag_what_can_never_match() {
    let oauth = json!({"type": "ClientGroup", "spec": {"clientGroup": {"clientList": [
        {"type": "Oauth2ClientId", "value": "app"},
        {"type": "SpiffeId", "value": "spiffe://cluster.local/workload/x"}]}}});
    let e = engine(vec![
        policy("cg", oauth),
        binding(
            "b",
            json!({"methods": ["get"], "destinationHosts": [{"hostname": "*.example.com"}],
                            "policies": ["cg"], "decisionStrategy": "cg"}),
        ),
        obj(
            "DrakoPolicyBinding",
            "shop",
            "other",
            json!({"destinationServiceAccounts": ["other-sa"],
            "authenticationMode": "None", "policies": [], "decisionStrategy": "true"}),
        ),
    ])
    .unwrap();
    let ws: Vec<String> = e.warnings().iter().map(|w| w.to_string()).collect();
    let all = ws.join("\n");
    for want in [
        "Oauth2ClientId entries (1) never match",
        "clientList[1].value",
        "spec.methods[0]: \"get\" is compared exactly",
        "`*` is not a wildcard",
        "DrakoPolicyBinding shop/other): spec.destinationServiceAccounts: does not select this workload",
    ] {
        assert!(all.contains(want), "{all}\n  should contain {want:?}");
    }
    let quiet = engine(simple("p", &[("p", allow_all())])).unwrap();
    assert!(quiet.warnings().is_empty(), "{:?}", quiet.warnings());
}
