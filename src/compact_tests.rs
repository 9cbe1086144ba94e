use super::*;

const BUNDLE: &str = r#"{"workload": {"namespace": "a"}, "resources": []}"#;

fn envelope(data: &str) -> String {
    format!(r#"{{"encoding": "gzip+base64", "data": "{data}"}}"#)
}

fn refusal(config: &str) -> String {
    match expand(config) {
        Err(BundleError::Envelope { field, message }) => format!("{field}: {message}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_plain_bundle_is_passed_through_without_a_copy() {
    assert!(matches!(expand(BUNDLE), Ok(Cow::Borrowed(b)) if b == BUNDLE));
    // Not the envelope's shape (another key, a number): a bundle, which its own parse judges.
    for other in [
        r#"{"encoding": "gzip+base64", "resources": []}"#,
        r#"{"encoding": 5, "data": ""}"#,
        "[1]",
        "x",
    ] {
        assert!(matches!(expand(other), Ok(Cow::Borrowed(_))), "{other}");
    }
}

#[test]
fn the_compact_form_expands_to_the_bundle() {
    let c = compress(BUNDLE);
    assert!(c.starts_with(r#"{"encoding": "gzip+base64", "data": "H4sI"#), "{c}");
    assert_eq!(expand(&c).unwrap(), BUNDLE);
}

#[test]
fn what_gzip_and_base64_make_is_read() {
    // `gzip` with a file name in the header (FNAME), base64 wrapped at 76 columns as `base64`
    // prints it (the JSON string carries the newline escaped).
    let data = "H4sICAAAAAAC/2J1bmRsZS5qc29uAKtWKkotzi8tSk4tVrJSiI6tBQBxKjFuEQAAAA==\\n";
    assert_eq!(expand(&envelope(data)).unwrap(), r#"{"resources": []}"#);
}

#[test]
fn base64_round_trips_every_length() {
    for n in 0..10 {
        let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
        let text = base64_encode(&bytes);
        assert_eq!(text.len() % 4, 0);
        assert_eq!(base64_decode(&text).unwrap(), bytes, "{text}");
        assert_eq!(
            base64_decode(text.trim_end_matches('=')).unwrap(),
            bytes,
            "without padding"
        );
    }
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926, "the standard check value");
}

#[test]
fn a_broken_compact_form_is_refused_naming_the_field() {
    assert_eq!(
        refusal(r#"{"encoding": "zstd", "data": ""}"#),
        "encoding: \"zstd\" is not \"gzip+base64\""
    );
    assert!(refusal(&envelope("H4sI*")).starts_with("data: not base64: character '*' at offset 4"));
    assert!(refusal(&envelope("QUJD")).contains("magic number"), "ABC is not gzip");
    let c = compress(BUNDLE);
    let data = c.trim_end_matches("\"}").rsplit('"').next().unwrap();
    let truncated = &data[..data.len() - 12];
    assert!(
        refusal(&envelope(truncated)).starts_with("data: not a gzip stream"),
        "{truncated}"
    );
    // One bit of the CRC flipped.
    let mut gz = base64_decode(data).unwrap();
    let at = gz.len() - 8;
    gz[at] ^= 1;
    assert!(refusal(&envelope(&base64_encode(&gz))).contains("CRC-32"));
}

#[test]
fn a_zip_bomb_is_refused_before_it_takes_the_memory() {
    // 1 KiB of zeros expands past a 512-byte limit: refused by the stated size first...
    let gz = gzip(&[0u8; 1024]);
    assert!(gunzip(&gz, 512).unwrap_err().contains("more than 512 bytes"));
    // ...and by the decompressor when the stated size lies.
    let mut liar = gz.clone();
    let at = liar.len() - 4;
    liar[at..].copy_from_slice(&16u32.to_le_bytes());
    assert!(gunzip(&liar, 512).unwrap_err().contains("more than 512 bytes"));
    assert_eq!(gunzip(&gz, 1024).unwrap().len(), 1024, "exactly the limit is accepted");
    // Through the envelope, with the filter's own limit: 1 byte over 32 MiB.
    let bomb = compress(&" ".repeat(MAX_EXPANDED + 1));
    assert!(bomb.len() < 100_000, "{} bytes of compact form", bomb.len());
    assert!(refusal(&bomb).contains("more than 33554432 bytes"));
}

#[test]
fn the_engine_loads_the_compact_form_as_the_bundle_itself() {
    let bundle = r#"{"workload": {"namespace": "a"}, "resources": [{"apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy", "metadata": {"name": "deny-x"},
        "spec": {"action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/x"]}}]}]}}]}"#;
    let engine = crate::Engine::from_json(compress(bundle).as_bytes(), &Default::default()).unwrap();
    let req = crate::Request::new("GET", "/x");
    let d = engine.evaluate(&req);
    assert_eq!(
        d.verdict.by().map(|b| b.meta.to_string()).as_deref(),
        Some("AuthorizationPolicy a/deny-x")
    );
    let broken = compress(&bundle.replace("paths", "pahts"));
    let e = crate::Engine::from_json(broken.as_bytes(), &Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("resources[0] (AuthorizationPolicy a/deny-x): spec.rules[0].to[0].operation"),
        "{e}"
    );
}
