//! `RegularExpression` matches (HTTPRoute paths, headers and query parameters) as Linkerd's
//! proxy evaluates them: the regex's leftmost-first match must start at 0 and end at the end
//! of the value (`m.start() == 0 && m.end() == len`, linkerd/http/route `match/path.rs`,
//! `header.rs`, `query_param.rs`), which is not the same as `^(?:re)$`: for `a|ab` the
//! leftmost-first match in `ab` is `a`, so `ab` does not match.
//!
//! The engine is `regex-lite` (see Cargo.toml): the `regex` crate's syntax and leftmost-first
//! semantics without its Unicode tables. The two agree on ASCII text; they differ only where a
//! pattern's `\w`, `\d`, `\s`, `\b` or `(?i)` meets a non-ASCII character (Unicode classes in
//! Linkerd, ASCII here), and `\p{..}` classes are refused. Paths are ASCII once canonical and
//! Linkerd tries header regexes only on visible-ASCII values; a decoded query parameter value
//! can carry non-ASCII text, so [`Anchored::unicode_classes`] lets the caller refuse to guess.

use std::fmt;

/// A compiled `RegularExpression` value.
#[derive(Clone)]
pub(super) struct Anchored {
    re: regex_lite::Regex,
    unicode_classes: bool,
}

impl fmt::Debug for Anchored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.re.as_str())
    }
}

impl Anchored {
    /// Compiles a pattern; the error is regex-lite's.
    pub(super) fn parse(pattern: &str) -> Result<Anchored, String> {
        let re = regex_lite::Regex::new(pattern).map_err(|e| e.to_string())?;
        Ok(Anchored {
            re,
            unicode_classes: unicode_classes(pattern),
        })
    }

    /// Does the pattern use a class or flag whose meaning on non-ASCII text differs between
    /// Linkerd's engine and this one?
    pub(super) fn unicode_classes(&self) -> bool {
        self.unicode_classes
    }

    /// Does the leftmost-first match span the whole value?
    pub(super) fn is_match(&self, value: &str) -> bool {
        self.re
            .find(value)
            .is_some_and(|m| m.start() == 0 && m.end() == value.len())
    }
}

/// `\w \W \d \D \s \S \b \B` outside an escaped backslash, or an `i` among the flags of a
/// `(?flags)` / `(?flags:...)` group.
fn unicode_classes(p: &str) -> bool {
    let b = p.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => {
                if b.get(i + 1).is_some_and(|e| b"wWdDsSbB".contains(e)) {
                    return true;
                }
                i += 2;
                continue;
            }
            b'(' if b.get(i + 1) == Some(&b'?') => {
                let rest = b.get(i + 2..).unwrap_or(&[]);
                let n = rest.iter().take_while(|f| b"imsuxR-".contains(f)).count();
                let closes = matches!(rest.get(n), Some(b':' | b')'));
                if closes && rest.get(..n).is_some_and(|f| f.contains(&b'i')) {
                    return true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::Anchored;

    #[test]
    fn the_leftmost_first_match_must_span_the_value() {
        let cases: &[(&str, &str, bool)] = &[
            (r"/foo/\d+", "/foo/4321", true),
            (r"/foo/\d+", "/foo/4abc", false),
            (r"/foo/\d+", "/bar/foo/4", false),
            ("bar*", "ba", true),
            ("bar*", "barro", false),
            ("qu+x", "quuuux", true),
            ("qu+x", "quxa", false),
            (".*", "", true),
            // Leftmost-first: `a` is found before `ab` could be, so `ab` is not a match.
            ("a|ab", "ab", false),
            ("ab|a", "ab", true),
        ];
        for (re, v, want) in cases {
            assert_eq!(Anchored::parse(re).unwrap().is_match(v), *want, "{re} on {v}");
        }
    }

    #[test]
    fn classes_whose_meaning_depends_on_unicode_are_flagged() {
        let cases: &[(&str, bool)] = &[
            (r"\d+", true),
            (r"a\sb", true),
            (r"(?i)abc", true),
            (r"(?ms-i:x)", true),
            (r"\\d", false),
            (r"[0-9]+", false),
            (r"(?:abc)", false),
            (r"(?P<i>x)", false),
            (r"bar/.+", false),
        ];
        for (re, want) in cases {
            assert_eq!(Anchored::parse(re).unwrap().unicode_classes(), *want, "{re}");
        }
    }

    #[test]
    fn what_the_regex_crate_refuses_is_refused() {
        for bad in ["(", "a[", "(?=x)", r"\1", "a{2,1}"] {
            assert!(Anchored::parse(bad).is_err(), "{bad}");
        }
    }
}
