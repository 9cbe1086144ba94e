//! The request options of `check` and `explain`: one request, as the filter would see it.

use std::net::IpAddr;

use spiffe_authz::request::path;
use spiffe_authz::{Peer, Request};

use crate::principal;

#[derive(clap::Args, Debug, Default)]
#[command(next_help_heading = "Request")]
pub struct RequestArgs {
    /// The caller: the client certificate's URI SAN, spiffe://TD/ns/NS/sa/SA (Istio's
    /// TD/ns/NS/sa/SA and Linkerd's SA.NS.serviceaccount.identity.CP.TD name the same ID).
    /// Leave out for a request without a client certificate.
    #[arg(long, value_name = "SPIFFE_ID")]
    pub principal: Option<String>,
    /// The :method [default: GET, POST with --grpc].
    #[arg(long)]
    pub method: Option<String>,
    /// The :path, canonicalized as the filter does; the query is kept for Linkerd's
    /// `queryParams`, a fragment dropped.
    #[arg(long, default_value = "/")]
    pub path: String,
    /// The :authority.
    #[arg(long)]
    pub host: Option<String>,
    /// The destination (listener) port.
    #[arg(long)]
    pub port: Option<u16>,
    /// The peer address.
    #[arg(long, value_name = "IP")]
    pub source_ip: Option<IpAddr>,
    /// A request header (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE", value_parser = header)]
    pub headers: Vec<(String, String)>,
    /// A gRPC request (content-type: application/grpc).
    #[arg(long)]
    pub grpc: bool,
    /// The payload of a JWT that Envoy's jwt_authn validated (Istio requestPrincipals,
    /// request.auth.*), as a JSON object.
    #[arg(long, value_name = "JSON", value_parser = jwt)]
    pub jwt: Option<serde_json::Value>,
    /// Another filter's dynamic metadata (Istio experimental.envoy.filters.* conditions), as
    /// FILTER={JSON object} (repeatable).
    #[arg(long = "metadata", value_name = "FILTER=JSON", value_parser = metadata)]
    pub metadata: Vec<(String, serde_json::Value)>,
}

fn header(v: &str) -> Result<(String, String), String> {
    let (n, val) = v.split_once(':').ok_or("expected 'name: value'")?;
    if n.trim().is_empty() {
        return Err("the header name is empty".into());
    }
    Ok((n.trim().to_string(), val.trim().to_string()))
}

fn jwt(v: &str) -> Result<serde_json::Value, String> {
    let payload: serde_json::Value = serde_json::from_str(v).map_err(|e| format!("not JSON: {e}"))?;
    if !payload.is_object() {
        return Err("not a JSON object".into());
    }
    Ok(payload)
}

fn metadata(v: &str) -> Result<(String, serde_json::Value), String> {
    let (filter, json) = v.split_once('=').ok_or("expected FILTER={JSON object}")?;
    Ok((filter.to_string(), jwt(json)?))
}

impl RequestArgs {
    /// The request, with the path canonicalized under the bundle's `settings.path`.
    pub fn request(&self, path_options: &path::Options) -> Result<Request, String> {
        let canonical = path::canonicalize(&self.path, path_options)
            .map_err(|e| format!("--path {:?}: the filter answers 400 to this path: {e}", self.path))?;
        let peer = match &self.principal {
            Some(p) => principal::peer(p)?,
            None => Peer::Unauthenticated,
        };
        Ok(self.build(peer, canonical))
    }

    /// The request from these options, with the peer and the canonical path given.
    pub fn build(&self, peer: Peer, canonical_path: String) -> Request {
        let method = match (&self.method, self.grpc) {
            (Some(m), _) => m.clone(),
            (None, true) => "POST".to_string(),
            (None, false) => "GET".to_string(),
        };
        let mut r = Request::new(&method, "/");
        r.path = canonical_path;
        r.query = Request::new("GET", &self.path).query;
        r.peer = peer;
        if let Some(h) = &self.host {
            r.set_authority(h);
        }
        r.port = self.port;
        r.source_ip = self.source_ip;
        r.jwt = self.jwt.clone();
        r.metadata = self.metadata.clone();
        for (n, v) in &self.headers {
            r.add_header(n, v);
        }
        if self.grpc {
            r.grpc = true;
            r.add_header("content-type", "application/grpc");
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        r: RequestArgs,
    }

    fn parse(args: &[&str]) -> Result<Request, String> {
        let t = T::try_parse_from(std::iter::once("t").chain(args.iter().copied())).map_err(|e| e.to_string())?;
        t.r.request(&Default::default())
    }

    #[test]
    fn every_option_reaches_the_request() {
        let r = parse(&[
            "--principal",
            "cluster.local/ns/a/sa/b",
            "--path",
            "/x/../y?q=1",
            "--host",
            "Shop.Example:8443",
            "--port",
            "8080",
            "--source-ip",
            "10.0.0.1",
            "--header",
            "X-A: 1",
            "--jwt",
            r#"{"iss": "i"}"#,
        ])
        .unwrap();
        assert_eq!(
            r.peer.id().map(|i| i.as_str()),
            Some("spiffe://cluster.local/ns/a/sa/b")
        );
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/y"));
        assert_eq!(
            (r.host.as_str(), r.host_port, r.port),
            ("shop.example", Some(8443), Some(8080))
        );
        assert_eq!(r.headers, [("x-a".to_string(), "1".to_string())]);
        assert_eq!(r.jwt.as_ref().map(|j| j["iss"].clone()), Some("i".into()));
    }

    #[test]
    fn grpc_requests_are_posts_unless_told() {
        assert_eq!(parse(&["--grpc"]).unwrap().method, "POST");
        assert_eq!(parse(&["--grpc", "--method", "PUT"]).unwrap().method, "PUT");
        assert_eq!(parse(&[]).unwrap().method, "GET");
    }

    #[test]
    fn bad_values_are_errors() {
        for bad in [
            &["--header", "novalue"][..],
            &["--jwt", "[1]"],
            &["--port", "http"],
            &["--source-ip", "x"],
            &["--principal", "web"],
            &["--path", "/a%00b"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
