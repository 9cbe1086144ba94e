//! DrakoPolicyBinding `paths` and `excludePaths`: path-tree's syntax, matched by path-tree.
//!
//! Drako's CRD page gives the syntax as path-tree's (`:` one segment, `*` zero or more
//! segments, `+` one or more; its `mapping.paths` are "using the path-tree syntax"), and
//! path-tree's matching has corners no summary captures: `/api/*` finds `/api/` but not
//! `/api` (which is why Drako's own `excludePaths` example lists both `/api/v1` and
//! `/api/v1/*`), `/api/:day/:month?/:year?` finds `/api/1/` but not `/api/1`, `:a-:b` splits
//! at the last `-` it can. So a binding's paths are one path-tree, as Drako matches them: a
//! binding applies when the tree finds a route for the request path
//! (tests/owners/drako/path-tree.json ports path-tree's own tests that way).
//!
//! For the layer's index, each path also yields a byte prefix every matching request path
//! starts with (see [`Routes::prefixes`]).

use std::fmt;

use path_tree::PathTree;

/// Why a path is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum PathError {
    /// Drako matches request paths, which start with `/`.
    NotRooted(String),
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::NotRooted(p) => write!(f, "{p:?} must start with `/`"),
        }
    }
}

/// A list of paths as one path-tree.
pub(super) struct Routes {
    tree: PathTree<()>,
    prefixes: Vec<String>,
}

impl fmt::Debug for Routes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Routes")
            .field("prefixes", &self.prefixes)
            .finish_non_exhaustive()
    }
}

impl Routes {
    /// The tree of `paths`; `Err((i, why))` names the first path refused.
    pub fn new(paths: &[String]) -> Result<Routes, (usize, PathError)> {
        let mut tree = PathTree::new();
        let mut prefixes = Vec::with_capacity(paths.len());
        for (i, p) in paths.iter().enumerate() {
            if !p.starts_with('/') {
                return Err((i, PathError::NotRooted(p.clone())));
            }
            // The route's id is of no use: any route found selects the binding.
            let _ = tree.insert(p, ());
            prefixes.push(prefix(p).to_string());
        }
        Ok(Routes { tree, prefixes })
    }

    /// Does path-tree find a route for `path`?
    pub fn matches(&self, path: &str) -> bool {
        self.tree.find(path).is_some()
    }

    /// For each path, a prefix of every request path it can match: its literal text before
    /// the first parameter or escape, cut before the last `/` of that text. (path-tree may let
    /// an optional or catch-all segment take nothing, and with it the `/` before it, but never
    /// a literal character other than that `/`.)
    pub fn prefixes(&self) -> &[String] {
        &self.prefixes
    }
}

fn prefix(p: &str) -> &str {
    let literal = p.find([':', '*', '+', '?', '\\']).map_or(p, |i| &p[..i]);
    literal.rfind('/').map_or("", |i| &literal[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(ps: &[&str]) -> Routes {
        Routes::new(&ps.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn paths_match_as_drako_documents_them() {
        let cases: &[(&str, &str, bool)] = &[
            ("/api/v1/videos", "/api/v1/videos", true),
            ("/api/v1/videos", "/api/v1/videos/x", false),
            ("/api/v1/videos/:", "/api/v1/videos/dQw4w9WgXcQ", true),
            ("/api/v1/videos/:", "/api/v1/videos", false),
            ("/api/v1/videos/:", "/api/v1/videos/a/b", false),
            ("/api/v1/videos*", "/api/v1/videos-drop-table-comments", true),
            ("/api/v1/videos*", "/api/v1/video", false),
            ("/api/*", "/api/v3/user", true),
            ("/api/*", "/api/", true),
            ("/api/*", "/api", false),
            ("/api/+", "/api/v2/x", true),
            ("/api/+", "/api/", false),
            ("/user/*/profile", "/user/a/b/profile", true),
            ("/user/*/profile", "/user/a/b/other", false),
            ("/f/:name.json", "/f/a.json", true),
            ("/f/:name.json", "/f/a.txt", false),
        ];
        for (p, path, want) in cases {
            assert_eq!(routes(&[p]).matches(path), *want, "{p} vs {path}");
        }
    }

    #[test]
    fn a_path_not_starting_with_a_slash_is_refused() {
        let e = Routes::new(&["/ok".into(), "api".into()]).unwrap_err();
        assert_eq!(e, (1, PathError::NotRooted("api".into())));
        assert_eq!(e.1.to_string(), "\"api\" must start with `/`");
    }

    #[test]
    fn every_match_starts_with_its_prefix() {
        let pats = [
            "/api/v1/:param?",
            "/api/:day/:month?/:year?",
            "/a/*",
            "/",
            "/*",
            "/x\\:y/:z",
            "/commit_:sha*",
            "/api/*/:param?",
            "/config/+.json",
            "/users/:id",
            "/a/b/c",
            "/a/:x?",
        ];
        let paths = [
            "/",
            "/a",
            "/a/",
            "/a/b",
            "/a/b/c",
            "/api",
            "/api/",
            "/api/1",
            "/api/1/",
            "/api/1/2",
            "/api/v1",
            "/api/v1/",
            "/api/v1/x",
            "/x:y/z",
            "/commit_",
            "/commit_1/2",
            "/config/a.json",
            "/users/7",
        ];
        for p in pats {
            let r = routes(&[p]);
            assert_eq!(r.prefixes().len(), 1);
            for path in paths {
                if r.matches(path) {
                    assert!(
                        path.starts_with(&r.prefixes()[0]),
                        "{p} matches {path}, prefix {:?}",
                        r.prefixes()[0]
                    );
                }
            }
        }
        assert_eq!(prefix("/api/v1/:param?"), "/api/v1");
        assert_eq!(prefix("/api/v1/videos"), "/api/v1");
        assert_eq!(prefix("/:id"), "");
    }
}
