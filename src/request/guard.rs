//! What the request edge refuses or normalizes because the application behind Envoy would read
//! the request differently from the policy (README "Security"):
//!
//! - a header value with whitespace around it (HTTP/2 passes `x-role: admin ` through; every
//!   HTTP/1.1 parser behind Envoy trims it, RFC 9110 5.5): trimmed before any rule reads it;
//! - a standard method in another case (`delete`): Envoy refuses it over HTTP/1.1 but passes it
//!   over HTTP/2, where frameworks such as Django upper-case it;
//! - a header name that a CGI/WSGI application reads as a header a rule tests (`x_role` is
//!   `HTTP_X_ROLE`, the same as `x-role`), for when Envoy lets underscores through.

use super::ReadPlan;

/// The methods of RFC 9110 section 9 and RFC 5789 (PATCH): methods are case-sensitive, and
/// these are defined in uppercase only.
const STANDARD_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// `value` without the spaces and tabs around it (RFC 9110 5.5: they are not part of a field
/// value). Reuses the buffer; copies nothing when there is nothing to trim (the usual case).
pub(super) fn trim_ows(mut value: String) -> String {
    let ows = [' ', '\t'];
    let end = value.trim_end_matches(ows).len();
    value.truncate(end);
    let start = value.len() - value.trim_start_matches(ows).len();
    // Moves nothing when `start` is 0.
    value.drain(..start);
    value
}

/// Is `method` a standard method written in another case (`delete`, `Get`)? Other methods are
/// tokens of their own and pass as written.
pub(super) fn miscased_method(method: &str) -> bool {
    method.bytes().any(|b| b.is_ascii_lowercase()) && STANDARD_METHODS.iter().any(|m| m.eq_ignore_ascii_case(method))
}

/// Does the header `name` (lowercase) read, to a CGI/WSGI application, as a header the rules
/// test under another spelling (`_` and `-` are one character there)? Scans the plan's headers
/// only when an underscore is involved; allocates nothing.
pub(super) fn cgi_alias(plan: &ReadPlan, name: &str) -> bool {
    if !name.contains('_') && !plan.reads_underscore_header() {
        return false;
    }
    let cgi = |b: u8| if b == b'_' { b'-' } else { b };
    !plan.reads_header(name)
        && plan
            .headers()
            .iter()
            .any(|h| h.len() == name.len() && h.bytes().zip(name.bytes()).all(|(a, b)| cgi(a) == cgi(b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::path::Options;

    #[test]
    fn header_values_lose_surrounding_whitespace_only() {
        for (raw, want) in [
            ("admin", "admin"),
            ("admin ", "admin"),
            ("admin\t", "admin"),
            (" admin", "admin"),
            ("\tadmin", "admin"),
            (" \tadmin \t ", "admin"),
            ("ad min", "ad min"),
            ("", ""),
            ("  ", ""),
            ("admin\r", "admin\r"),
        ] {
            assert_eq!(trim_ows(raw.to_string()), want, "{raw:?}");
        }
    }

    #[test]
    fn standard_methods_only_in_uppercase() {
        for m in ["delete", "Delete", "dELETE", "get", "Patch", "options", "connect"] {
            assert!(miscased_method(m), "{m}");
        }
        for m in [
            "DELETE", "GET", "PURGE", "purge", "propfind", "M-SEARCH", "", "GETS", "deletee",
        ] {
            assert!(!miscased_method(m), "{m}");
        }
    }

    fn plan(headers: &[&str]) -> ReadPlan {
        let mut p = ReadPlan::new(Options::default());
        headers.iter().for_each(|h| p.read_header(h));
        p.seal()
    }

    #[test]
    fn cgi_aliases_of_headers_the_rules_read() {
        let p = plan(&["x-role", "x-env"]);
        for (name, alias) in [
            ("x_role", true),
            ("x_env", true),
            ("x-role", false),
            ("x_other", false),
            ("x_roles", false),
            ("content-type", false),
        ] {
            assert_eq!(cgi_alias(&p, name), alias, "{name}");
        }
        // A rule on `x_role` is dodged by `x-role` the other way round.
        let p = plan(&["x_role"]);
        assert!(cgi_alias(&p, "x-role"));
        assert!(!cgi_alias(&p, "x_role"));
        assert!(!cgi_alias(&plan(&[]), "x_role"));
    }
}
