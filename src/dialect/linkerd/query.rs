//! Query parameters as Linkerd's proxy reads them: `url::form_urlencoded::parse` of the query
//! (linkerd2-proxy `linkerd/http/route/src/http/match/query_param.rs`): pairs split on `&`
//! (empty pieces skipped), name and value split at the first `=` (none: an empty value), `+`
//! read as a space, `%XX` decoded (a `%` not followed by two hex digits is kept as is), and
//! the bytes read as UTF-8 with invalid sequences replaced by U+FFFD.

use std::borrow::Cow;

/// The decoded `(name, value)` pairs of a query (without its `?`), in order.
pub(super) fn pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    query.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (n, v) = p.split_once('=').unwrap_or((p, ""));
        (decode(n), decode(v))
    })
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// One name or value, decoded; borrowed when nothing needed decoding.
fn decode(s: &str) -> Cow<'_, str> {
    if !s.bytes().any(|b| b == b'+' || b == b'%') {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(|h| hex(*h)),
                bytes.get(i + 2).and_then(|l| hex(*l)),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            _ => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::pairs;

    fn all(q: &str) -> Vec<(String, String)> {
        pairs(q).map(|(n, v)| (n.into_owned(), v.into_owned())).collect()
    }

    #[test]
    fn pairs_decode_as_form_urlencoded() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("foo=bar", &[("foo", "bar")]),
            ("foo", &[("foo", "")]),
            ("a=1&&b=2&", &[("a", "1"), ("b", "2")]),
            ("foo=bar%2Fhi", &[("foo", "bar/hi")]),
            ("foo=bah%20hi+x", &[("foo", "bah hi x")]),
            ("a%3Db=c=d", &[("a=b", "c=d")]),
            ("p=%zz%4", &[("p", "%zz%4")]),
            ("u=%C3%A9", &[("u", "é")]),
            ("u=%FF", &[("u", "\u{FFFD}")]),
            ("", &[]),
        ];
        for (q, want) in cases {
            let want: Vec<(String, String)> = want.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
            assert_eq!(all(q), want, "{q}");
        }
    }
}
