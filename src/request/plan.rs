//! What the filter reads from the host for each request, and what it removes: one [`ReadPlan`]
//! per bundle, made by the engine from its layers.
//!
//! In Envoy each attribute is a host call (a CEL lookup and a copy into the VM), several times
//! the cost of the policy decision itself (README "Performance"): the filter reads only what
//! the bundle's rules can look at. The request headers and the peer's URI SAN it reads always.

use super::path::Options as PathSettings;

/// Everything the request's builder ([`super::incoming`]) needs to know about the bundle.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadPlan {
    /// How the path is canonicalized (`settings.path`).
    pub path: PathSettings,
    /// Connection attributes the rules can look at.
    pub reads: Reads,
    /// Request headers the rules read (lowercase, sorted, each once).
    headers: Vec<String>,
    /// Some header in `headers` has an `_` (see [`super::guard::cgi_alias`]).
    underscore: bool,
    /// Headers no client may send, removed before forwarding (lowercase; a trailing `*` is a
    /// prefix; sorted, each once).
    strip: Vec<&'static str>,
    /// Filters whose dynamic metadata the rules read (sorted, each once).
    metadata: Vec<String>,
}

impl ReadPlan {
    /// A plan that reads nothing beyond the peer, the path, the authority and the method.
    pub(crate) fn new(path: PathSettings) -> ReadPlan {
        ReadPlan {
            path,
            ..ReadPlan::default()
        }
    }

    /// Some rule reads this request header (any case; stored lowercase).
    pub(crate) fn read_header(&mut self, name: &str) {
        self.headers.push(name.to_ascii_lowercase());
    }

    /// No client may send this header (a trailing `*`: any with this prefix).
    pub(crate) fn strip_header(&mut self, pattern: &'static str) {
        self.strip.push(pattern);
    }

    /// Some rule reads this filter's dynamic metadata.
    pub(crate) fn read_metadata(&mut self, filter: &str) {
        self.metadata.push(filter.to_string());
    }

    /// The filters whose dynamic metadata the rules read.
    pub fn metadata_filters(&self) -> &[String] {
        &self.metadata
    }

    /// Some rule reads these connection attributes.
    pub(crate) fn read(&mut self, r: Reads) {
        self.reads = self.reads.union(r);
    }

    /// Sorts and deduplicates, once every layer has added to the plan.
    pub(crate) fn seal(mut self) -> ReadPlan {
        self.headers.sort_unstable();
        self.headers.dedup();
        self.underscore = self.headers.iter().any(|h| h.contains('_'));
        self.strip.sort_unstable();
        self.strip.dedup();
        self.metadata.sort_unstable();
        self.metadata.dedup();
        self
    }

    /// The request headers the rules read.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Does some rule read this (lowercase) header?
    pub fn reads_header(&self, name: &str) -> bool {
        self.headers.binary_search_by(|h| h.as_str().cmp(name)).is_ok()
    }

    /// Does some rule read a header whose name has an `_`?
    pub fn reads_underscore_header(&self) -> bool {
        self.underscore
    }

    /// The headers removed before forwarding.
    pub fn strip(&self) -> &[&'static str] {
        &self.strip
    }

    /// Is this (lowercase) header removed before forwarding?
    pub fn strips(&self, name: &str) -> bool {
        self.strip.iter().any(|s| match s.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == *s,
        })
    }
}

/// Connection attributes beyond the peer and the headers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reads {
    /// The destination port (`destination.port`).
    pub port: bool,
    /// The connection's peer address, also the remote address (`source.address`).
    pub source_ip: bool,
    /// The connection's local address (`destination.address`).
    pub destination_ip: bool,
    /// The TLS SNI (`connection.requested_server_name`).
    pub sni: bool,
    /// The payload of the JWT Envoy's `jwt_authn` validated (stream metadata), for
    /// `requestPrincipals` and `request.auth.*`.
    pub jwt: bool,
    /// The request's protocol (`request.protocol`), read only for a request whose
    /// `content-type` says gRPC: whether it can be gRPC decides how some rules match (Dapr).
    pub protocol: bool,
}

impl Reads {
    /// None beyond the peer and the headers.
    pub const NONE: Reads = Reads {
        port: false,
        source_ip: false,
        destination_ip: false,
        sni: false,
        jwt: false,
        protocol: false,
    };

    /// What either reads.
    pub fn union(self, o: Reads) -> Reads {
        Reads {
            port: self.port || o.port,
            source_ip: self.source_ip || o.source_ip,
            destination_ip: self.destination_ip || o.destination_ip,
            sni: self.sni || o.sni,
            jwt: self.jwt || o.jwt,
            protocol: self.protocol || o.protocol,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_and_stripped_by_name_or_prefix() {
        let mut p = ReadPlan::new(Default::default());
        p.read_header("X-Role");
        p.read_header("authorization");
        p.read_header("x-role");
        p.strip_header("x-drako-*");
        p.strip_header("x-user-id");
        let p = p.seal();
        assert_eq!(p.headers(), ["authorization", "x-role"]);
        for (name, read) in [
            ("x-role", true),
            ("authorization", true),
            ("x-roles", false),
            ("x", false),
        ] {
            assert_eq!(p.reads_header(name), read, "{name}");
        }
        for (name, stripped) in [
            ("x-user-id", true),
            ("x-drako-client-ids", true),
            ("x-drako-", true),
            ("x-user-idx", false),
            ("x-drak", false),
        ] {
            assert_eq!(p.strips(name), stripped, "{name}");
        }
    }

    #[test]
    fn union_keeps_every_read() {
        let a = Reads {
            port: true,
            ..Reads::NONE
        };
        let b = Reads {
            sni: true,
            ..Reads::NONE
        };
        assert_eq!(
            a.union(b),
            Reads {
                port: true,
                sni: true,
                ..Reads::NONE
            }
        );
        let all = Reads {
            port: true,
            source_ip: true,
            destination_ip: true,
            sni: true,
            jwt: true,
            protocol: true,
        };
        assert_eq!(Reads::NONE.union(all), all);
        assert_eq!(Reads::NONE.union(Reads::NONE), Reads::NONE);
    }
}
