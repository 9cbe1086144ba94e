//! IP addresses and CIDR blocks.

use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;

/// A CIDR block, `10.0.0.0/8` or `fd00::/8`; a bare address is a /32 (/128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    len: u8,
}

impl Cidr {
    /// Parses `a.b.c.d[/n]` or `v6[/n]`. Host bits set under the mask are accepted and
    /// ignored, as Envoy does.
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR block"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            None => max,
            Some(l) => match l.trim().parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("{s:?}: prefix length must be 0..={max}")),
            },
        };
        Ok(Cidr { addr, len })
    }

    /// The block of one address.
    pub fn host(addr: IpAddr) -> Cidr {
        Cidr {
            addr,
            len: if addr.is_ipv4() { 32 } else { 128 },
        }
    }

    /// Does the block contain every address of `other` (same family, no longer prefix)?
    pub fn covers(&self, other: &Cidr) -> bool {
        self.addr.is_ipv4() == other.addr.is_ipv4() && self.len <= other.len && self.contains(other.addr)
    }

    /// Does the block contain `ip`? (An IPv4-mapped IPv6 address counts as its IPv4 form.)
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.len)).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }

    fn is_host(&self) -> bool {
        self.len == if self.addr.is_ipv4() { 32 } else { 128 }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// An OR of CIDR blocks, each with optional exceptions (Linkerd `networks[].except`): single
/// addresses hashed, blocks scanned (block lists are short; address lists, such as Drako
/// `Origin`, can be long).
#[derive(Clone, Debug, Default)]
pub struct IpSet {
    hosts: HashSet<IpAddr>,
    nets: Vec<(Cidr, Vec<Cidr>)>,
    /// Every address, known or not (Linkerd's "all networks").
    every: bool,
}

impl IpSet {
    /// Every address; unlike `0.0.0.0/0` + `::/0`, it also admits a client whose address is
    /// unknown (see [`IpSet::admits`]).
    pub fn every() -> IpSet {
        IpSet {
            every: true,
            ..IpSet::default()
        }
    }

    /// Adds a block.
    pub fn insert(&mut self, c: Cidr) {
        if c.is_host() {
            self.hosts.insert(canonical(c.addr));
        } else {
            self.nets.push((c, Vec::new()));
        }
    }

    /// Adds a block minus the `except` blocks.
    pub fn insert_except(&mut self, c: Cidr, except: Vec<Cidr>) {
        if except.is_empty() {
            self.insert(c);
        } else {
            self.nets.push((c, except));
        }
    }

    /// Builds a set from strings, naming the first bad one.
    pub fn parse_all<'a>(vs: impl IntoIterator<Item = &'a str>) -> Result<IpSet, String> {
        let mut s = IpSet::default();
        for v in vs {
            s.insert(Cidr::parse(v)?);
        }
        Ok(s)
    }

    /// Does a block contain `ip` (and none of its exceptions)?
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.every
            || self.hosts.contains(&canonical(ip))
            || self
                .nets
                .iter()
                .any(|(n, except)| n.contains(ip) && !except.iter().any(|e| e.contains(ip)))
    }

    /// [`IpSet::contains`] for an address that may be unknown: an unknown address is in no
    /// block (fail closed), only in [`IpSet::every`].
    pub fn admits(&self, ip: Option<IpAddr>) -> bool {
        match ip {
            Some(ip) => self.contains(ip),
            None => self.every,
        }
    }
}

#[cfg(test)]
#[path = "ip_tests.rs"]
mod tests;
