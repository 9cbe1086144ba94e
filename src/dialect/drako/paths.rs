//! DrakoPolicyBinding `paths` and `excludePaths`, lowered to model path patterns.

use crate::model::{PathPattern, Seg};

/// Drako's `paths` syntax is path-tree's (viz-rs/path-tree, whose syntax Drako's docs cite), and
/// so are its semantics, which are narrower than "zero or more segments" suggests:
/// - `:` (or `:name`), a whole segment: one non-empty segment.
/// - `*` (or `:name*`), a whole segment: after the slash, any text, slashes included, possibly
///   empty. So `/api/*` matches `/api/`, `/api/v2/x`, but *not* `/api` (path-tree's test:
///   `/api/v1/*` does not find `/api/v1`), which is why Drako's own `excludePaths` example lists
///   both `/api/v1` and `/api/v1/*`. Canonical paths have no empty segments but a trailing one,
///   so this is [`Seg::Rest`] `{min: 1}`.
/// - `+` (or `:name+`), a whole segment: after the slash, at least one character: a non-empty
///   segment, then anything ([`Seg::One`], [`Seg::Rest`] `{min: 0}`).
/// - `:name?` as the last segment: the segment may be empty (`/a/:x?` matches `/a/` and `/a/b`,
///   not `/a`).
/// - `*` glued to the end of a literal (`/api/v1/videos*`): any continuation, as Drako's docs
///   warn (`/api/v1/videos-drop-table-comments`): a prefix.
///
/// Other in-segment parameters (`/files/:name.json`, `\:` escapes) are refused.
pub(super) fn path_pattern(p: &str) -> Result<Vec<PathPattern>, String> {
    let Some(rest) = p.strip_prefix('/') else {
        return Err(format!("{p:?} must start with `/`"));
    };
    let raw: Vec<&str> = rest.split('/').collect();
    let mut segs = Vec::with_capacity(raw.len() + 1);
    let mut wild = false;
    let param = |s: &str| {
        s.strip_prefix(':')
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    };
    for (i, s) in raw.iter().enumerate() {
        let last = i + 1 == raw.len();
        // Split off the last character, not the last byte: a segment may end in UTF-8.
        let (body, suffix) = match s.char_indices().next_back() {
            Some((at, c)) => (&s[..at], Some(c)),
            None => (*s, None),
        };
        match (*s, suffix) {
            ("*", _) => segs.push(Seg::Rest { min: 1 }),
            ("+", _) => segs.extend([Seg::One, Seg::Rest { min: 0 }]),
            (s, _) if param(s) => segs.push(Seg::One),
            (_, Some('*')) if param(body) => segs.push(Seg::Rest { min: 1 }),
            (_, Some('+')) if param(body) => segs.extend([Seg::One, Seg::Rest { min: 0 }]),
            (_, Some('?')) if param(body) && last => {
                let mut empty = segs.clone();
                empty.push(Seg::Lit("".into()));
                segs.push(Seg::One);
                return Ok(vec![PathPattern::Segments(empty), PathPattern::Segments(segs)]);
            }
            (_, Some('*')) if last && !wild && !body.is_empty() && plain(body) => {
                return Ok(vec![PathPattern::Prefix(p[..p.len() - 1].to_string())]);
            }
            (s, _) if plain(s) => segs.push(Seg::Lit(s.into())),
            (s, _) => {
                return Err(format!(
                    "{p:?}: segment {s:?} mixes text with a parameter (`:`, `*`, `+`, `?`, `\\`); in-proxy, only whole-segment `:`, `*`, `+`, a final `:name?` and a final `text*` are supported"
                ))
            }
        }
        wild |= segs.last().is_some_and(|g| !matches!(g, Seg::Lit(_)));
    }
    Ok(vec![if wild {
        PathPattern::Segments(segs)
    } else {
        PathPattern::Exact(p.to_string())
    }])
}

fn plain(s: &str) -> bool {
    !s.contains([':', '*', '+', '?', '\\'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(p: &str, path: &str) -> bool {
        crate::model::PathSet::from_patterns(&path_pattern(p).unwrap()).matches(path)
    }

    #[test]
    fn paths_match_as_drako_and_path_tree_do() {
        let cases: &[(&str, &str, bool)] = &[
            // Drako's docs.
            ("/api/v1/videos", "/api/v1/videos", true),
            ("/api/v1/videos", "/api/v1/videos/x", false),
            ("/api/v1/videos/:", "/api/v1/videos/dQw4w9WgXcQ", true),
            ("/api/v1/videos/:", "/api/v1/videos", false),
            ("/api/v1/videos/:", "/api/v1/videos/a/b", false),
            ("/api/v1/videos*", "/api/v1/videos-drop-table-comments", true),
            ("/api/v1/videos*", "/api/v1/videos/x", true),
            ("/api/v1/videos*", "/api/v1/video", false),
            ("/api/*", "/api/v2", true),
            ("/api/*", "/api/v3/user", true),
            // path-tree's tests: `/api/v1/*` finds `/api/v1/` but not `/api/v1`.
            ("/api/*", "/api/", true),
            ("/api/*", "/api", false),
            ("/api/*", "/apix", false),
            ("/user/:id/profile", "/user/7/profile", true),
            ("/user/:id/profile", "/user//profile", false),
            ("/user/*/profile", "/user/a/b/profile", true),
            ("/user/*/profile", "/user/profile", false),
            ("/user/*/profile", "/user/a/b/other", false),
            ("/api/+", "/api/v2", true),
            ("/api/+", "/api/v2/x", true),
            ("/api/+", "/api/", false),
            ("/api/+", "/api", false),
            ("/api/+/:param", "/api/joker/batman/robin/1", true),
            ("/api/+/:param", "/api/joker", false),
            ("/api/:rest*", "/api/", true),
            ("/api/:rest*", "/api", false),
            ("/api/:rest+", "/api/x", true),
            ("/api/:rest+", "/api/", false),
            ("/api/v1/:param?", "/api/v1/", true),
            ("/api/v1/:param?", "/api/v1/x", true),
            ("/api/v1/:param?", "/api/v1", false),
            ("/api/v1/:param?", "/api/v1/x/y", false),
            ("/", "/", true),
            ("/", "/x", false),
        ];
        for (p, path, want) in cases {
            assert_eq!(matches(p, path), *want, "{p} vs {path}");
        }
    }

    #[test]
    fn unsupported_paths_are_refused() {
        for bad in [
            "api",
            "/a/:x?/b",
            "/a/b:c",
            "/a/x+y",
            "/a/*/b*",
            "/a/\\:",
            "/a/b+",
            "/f/:name.json",
        ] {
            assert!(path_pattern(bad).is_err(), "{bad}");
        }
    }
}
