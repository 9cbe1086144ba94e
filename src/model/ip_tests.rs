//! CIDR blocks and IP sets: as explain and errors show them, the boundaries of a block, exceptions
//! and unknown addresses.

use super::*;

#[test]
fn blocks_display_as_address_and_length() {
    for (given, shown) in [
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.1.2.3", "10.1.2.3/32"),
        ("10.1.2.3/32", "10.1.2.3/32"),
        (" 10.1.2.3 / 0 ", "10.1.2.3/0"),
        ("fd00::/8", "fd00::/8"),
        ("::1", "::1/128"),
    ] {
        assert_eq!(
            Cidr::parse(given).map(|c| c.to_string()),
            Ok(shown.to_string()),
            "{given}"
        );
    }
    assert_eq!(Cidr::host(IpAddr::from([1, 2, 3, 4])).to_string(), "1.2.3.4/32");
    assert_eq!(Cidr::host("::2".parse().unwrap()).to_string(), "::2/128");
    assert_eq!(
        Cidr::parse("::/129").unwrap_err(),
        "\"::/129\": prefix length must be 0..=128"
    );
    assert_eq!(
        Cidr::parse("x/8").unwrap_err(),
        "\"x/8\" is not an IP address or CIDR block"
    );
}

#[test]
fn a_block_holds_exactly_its_addresses() {
    let cases = [
        ("10.0.0.0/31", "10.0.0.1", true),
        ("10.0.0.0/31", "10.0.0.2", false),
        ("10.0.0.0/32", "10.0.0.0", true),
        ("10.0.0.0/32", "10.0.0.1", false),
        ("128.0.0.0/1", "200.0.0.1", true),
        ("128.0.0.0/1", "127.255.255.255", false),
        ("::/0", "fe80::1", true),
        ("::/0", "10.0.0.1", false),
        ("fd00::/127", "fd00::1", true),
        ("fd00::/127", "fd00::2", false),
    ];
    for (c, a, want) in cases {
        let ip: IpAddr = a.parse().unwrap();
        assert_eq!(Cidr::parse(c).unwrap().contains(ip), want, "{c} ∋ {a}");
        let set = IpSet::parse_all([c]).unwrap();
        assert_eq!(set.contains(ip), want, "set {c} ∋ {a}");
        assert_eq!(set.admits(Some(ip)), want, "set {c} admits {a}");
    }
    assert!(IpSet::parse_all(["10.0.0.0/8", "bad"]).unwrap_err().contains("bad"));
    // Exceptions given but empty: the block itself.
    let mut s = IpSet::default();
    s.insert_except(Cidr::parse("10.0.0.1").unwrap(), Vec::new());
    assert!(s.contains("10.0.0.1".parse().unwrap()));
    assert!(!s.contains("10.0.0.2".parse().unwrap()));
}

#[test]
fn an_ipv4_mapped_address_is_its_ipv4_form_on_both_sides() {
    let set = IpSet::parse_all(["::ffff:10.0.0.1", "10.0.0.2"]).unwrap();
    for (a, want) in [
        ("10.0.0.1", true),
        ("::ffff:10.0.0.1", true),
        ("10.0.0.2", true),
        ("::ffff:10.0.0.2", true),
        ("10.0.0.3", false),
    ] {
        assert_eq!(set.contains(a.parse().unwrap()), want, "{a}");
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn blocks() {
    let cases = [
        ("10.0.0.0/8", "10.1.2.3", true),
        ("10.0.0.0/8", "11.0.0.1", false),
        ("10.1.2.3", "10.1.2.3", true),
        ("10.1.2.3", "10.1.2.4", false),
        ("0.0.0.0/0", "8.8.8.8", true),
        ("fd00::/8", "fd12::1", true),
        ("fd00::/8", "fe80::1", false),
        ("10.0.0.0/8", "::ffff:10.0.0.1", true),
        ("10.0.0.0/8", "fd00::1", false),
    ];
    for (c, a, want) in cases {
        let mut s = IpSet::default();
        s.insert(Cidr::parse(c).unwrap());
        assert_eq!(s.contains(ip(a)), want, "{c} ∋ {a}");
    }
}

#[test]
fn exceptions_and_unknown_addresses() {
    let mut s = IpSet::default();
    s.insert_except(
        Cidr::parse("10.0.0.0/8").unwrap(),
        vec![Cidr::parse("10.1.0.0/16").unwrap()],
    );
    assert!(s.contains(ip("10.2.3.4")));
    assert!(!s.contains(ip("10.1.3.4")));
    assert!(!s.contains(ip("192.168.0.1")));
    // Unknown address: fail closed, except for "every network".
    assert!(!s.admits(None));
    assert!(IpSet::every().admits(None));
    assert!(IpSet::every().contains(ip("192.168.0.1")));
}

#[test]
fn bad_blocks_are_named() {
    assert!(Cidr::parse("10.0.0.0/33").unwrap_err().contains("10.0.0.0/33"));
    assert!(Cidr::parse("ten").is_err());
}
