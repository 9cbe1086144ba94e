use super::*;
use clap::Parser;

#[derive(Parser)]
struct T {
    #[command(flatten)]
    a: Args,
}

fn args(s: &str) -> Args {
    let argv = ["t", "--bundle", "b.json", "--url", "oci://r/x:1"];
    T::try_parse_from(argv.into_iter().chain(s.split_whitespace()))
        .unwrap()
        .a
}

fn with_url(s: &str, url: &str) -> Args {
    Args {
        url: url.into(),
        ..args(s)
    }
}

#[test]
fn wasm_checksum_is_refused_for_oci_urls() {
    let e = checksum(&args("--wasm x.wasm")).unwrap_err();
    assert!(e.contains("manifest digest"), "{e}");
    assert!(checksum(&with_url("--oci-layout d", "file:///x.wasm")).is_err());
}

#[test]
fn sha256_is_checked_and_must_match_a_pinned_url() {
    let h = "ab".repeat(32);
    assert_eq!(
        checksum(&args(&format!("--sha256 sha256:{h}"))).unwrap(),
        Some(h.clone())
    );
    assert!(checksum(&args("--sha256 abc")).is_err());
    let pinned = format!("oci://r/x@sha256:{}", "cd".repeat(32));
    assert!(checksum(&with_url(&format!("--sha256 {h}"), &pinned)).is_err());
    assert_eq!(checksum(&with_url("", &pinned)).unwrap(), None);
}

#[test]
fn only_one_checksum_source() {
    let argv = ["t", "--bundle", "b", "--url", "u", "--sha256", "x", "--wasm", "y"];
    assert!(T::try_parse_from(argv).is_err());
}

#[test]
fn oci_layout_digest_is_read() {
    let dir = std::env::temp_dir().join(format!("spiffe-authz-wp-{}", std::process::id()));
    let d = oci::write_layout(&dir, b"\0asm\x01\0\0\0", "v").unwrap();
    let got = checksum(&args(&format!("--oci-layout {}", dir.display()))).unwrap();
    assert_eq!(got.map(|h| format!("sha256:{h}")), Some(d));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn target_refs_get_istios_groups_and_are_checked() {
    let t = target_refs(&["Gateway/waypoint".into(), "Service/reviews".into()]).unwrap();
    assert_eq!((t[0].group, t[1].group), ("gateway.networking.k8s.io", ""));
    for bad in ["waypoint", "Pod/x", "Gateway/", "Gateway/UPPER"] {
        assert!(target_refs(&[bad.into()]).is_err(), "{bad}");
    }
    assert!(target_refs(&vec!["Gateway/w".to_string(); 17]).is_err());
}
