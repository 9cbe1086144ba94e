use serde::Deserialize;

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Doc {
    spec: Option<Spec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Spec {
    action: Option<Action>,
    #[serde(default)]
    rules: Vec<Rule>,
    port: Option<u16>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
enum Action {
    Allow,
    Deny,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Rule {
    #[serde(default)]
    from: Vec<Source>,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Source {
    principals: Vec<String>,
}

/// The path named for a failing parse of `json` into `Doc`.
fn path_of(json: &str) -> String {
    match serde_json::from_str::<Doc>(json) {
        Ok(d) => panic!("{json} parsed: {d:?}"),
        Err(e) => path_at(json, &e),
    }
}

#[test]
fn names_the_failing_field() {
    let cases: &[(&str, &str)] = &[
        // An unknown key names itself.
        (
            r#"{"spec": {"rules": [{"from": [{"principal": ["x"]}]}]}}"#,
            "spec.rules[0].from[0].principal",
        ),
        (r#"{"spec": {"colour": 1}}"#, "spec.colour"),
        (r#"{"kind": 1}"#, "kind"),
        // A bad value names itself.
        (r#"{"spec": {"action": "PERMIT"}}"#, "spec.action"),
        (r#"{"spec": {"port": 70000}}"#, "spec.port"),
        (r#"{"spec": {"port": "http"}}"#, "spec.port"),
        (r#"{"spec": {"rules": [{}, {"name": 7}]}}"#, "spec.rules[1].name"),
        (
            r#"{"spec": {"rules": [{"from": [{"principals": ["a", 2]}]}]}}"#,
            "spec.rules[0].from[0].principals[1]",
        ),
        (r#"{"spec": {"rules": {"from": []}}}"#, "spec.rules"),
        (r#"{"spec": {"rules": [[]]}}"#, "spec.rules[0]"),
        // A missing field names the object that lacks it.
        (
            r#"{"spec": {"rules": [{"from": [{"principals": []}, {}]}]}}"#,
            "spec.rules[0].from[1]",
        ),
        // A duplicate key names itself.
        (r#"{"spec": {"port": 1, "port": 2}}"#, "spec.port"),
    ];
    for (json, want) in cases {
        assert_eq!(path_of(json), *want, "{json}");
    }
}

#[test]
fn names_the_failing_field_across_lines_and_whitespace() {
    let json = "{\n  \"spec\" : {\n    \"rules\" : [ { } ,\n      { \"name\" : 7 } ]\n  }\n}";
    assert_eq!(path_of(json), "spec.rules[1].name");
    let json = "{\n  \"spec\": {\n    \"nope\"  : 1\n  }\n}";
    assert_eq!(path_of(json), "spec.nope");
}

#[test]
fn keys_are_unescaped_and_strings_may_hold_delimiters() {
    assert_eq!(
        path_of(r#"{"spec": {"rules": [{"name": "a,]}\"", "from": [{"principals": [1]}]}]}}"#),
        "spec.rules[0].from[0].principals[0]"
    );
    assert_eq!(path_of(r#"{"sp\u0065c": {"port": "x"}}"#), "spec.port");
    // serde_json's column counts bytes: a multi-byte character before the error does not shift it.
    assert_eq!(
        path_of(r#"{"spec": {"rules": [{"name": "ééééé", "from": [{"principals": [1]}]}]}}"#),
        "spec.rules[0].from[0].principals[0]"
    );
    assert_eq!(path_of(r#"{"spec": {"a\"b": 1}}"#), "spec.a\"b");
}

#[test]
fn offsets_count_bytes_from_the_start_of_the_line() {
    let text = "ab\ncdé\nf";
    assert_eq!(offset_of(text, 1, 0), 0);
    assert_eq!(offset_of(text, 2, 1), 4);
    assert_eq!(offset_of(text, 3, 1), 9);
    assert_eq!(offset_of(text, 9, 9), text.len());
}
