//! Which connection attributes a bundle's rules can look at.
//!
//! In Envoy each attribute is a host call (a CEL lookup and a copy into the VM), several times
//! the cost of the policy decision itself (README "Performance"). The filter asks the engine
//! which ones the bundle needs and reads only those; the peer's URI SAN and the request headers
//! it reads always.

/// Connection attributes beyond the peer and the headers. A layer that does not say what it
/// reads reads everything ([`Reads::ALL`]), so a missing declaration costs time, never a wrong
/// decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

impl Reads {
    /// Every attribute.
    pub const ALL: Reads = Reads {
        port: true,
        source_ip: true,
        destination_ip: true,
        sni: true,
        jwt: true,
    };

    /// None beyond the peer and the headers.
    pub const NONE: Reads = Reads {
        port: false,
        source_ip: false,
        destination_ip: false,
        sni: false,
        jwt: false,
    };

    /// What either reads.
    pub fn union(self, o: Reads) -> Reads {
        Reads {
            port: self.port || o.port,
            source_ip: self.source_ip || o.source_ip,
            destination_ip: self.destination_ip || o.destination_ip,
            sni: self.sni || o.sni,
            jwt: self.jwt || o.jwt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Reads;

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
        assert_eq!(Reads::NONE.union(Reads::ALL), Reads::ALL);
        assert_eq!(Reads::NONE.union(Reads::NONE), Reads::NONE);
    }
}
