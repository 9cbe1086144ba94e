//! Command-line arguments: `--flag value` pairs, repeated `--header`, boolean `--grpc`.

use spiffe_authz::{Peer, Request};

pub struct Args {
    pub bundle: Option<String>,
    pub request: Request,
    pub rest: Vec<String>,
    pub flags: Vec<(String, String)>,
}

const HELP: &str = "\
usage: spiffe-authz <command> [options]

commands:
  check     --bundle FILE [request options]   decide one request; prints JSON; exit 0 allow, 1 deny, 2 error
  explain   --bundle FILE [request options]   every applicable rule and whether it matched
  validate  --bundle FILE                     load the bundle; print warnings; exit 0 ok, 2 error
  bundle    [-f MANIFEST.yaml]... [-o FILE]   Kubernetes YAML manifests -> bundle JSON (--help: options)
  wasmplugin --bundle FILE --url URL ...      an Istio WasmPlugin carrying the bundle (--help: options)
  package   --wasm FILE --out DIR             the module as an OCI image layout (Wasm image spec, compat)
  push      --bundle FILE --dir ECDS_DIR      a new bundle for a running Envoy (ECDS file, atomic rename)
  authz     [-f STATS.txt]                    per policy: allowed / denied, from Envoy's /stats/prometheus

request options:
  --principal URI      the client certificate's URI SAN (spiffe://td/ns/NS/sa/SA); none = no certificate
  --method M           default GET
  --path P             default /; the query is kept for Linkerd queryParams, a fragment dropped
  --host H             the :authority
  --port N             the destination port
  --source-ip IP       the peer address
  --header 'name: value'   repeatable
  --grpc               a gRPC request (content-type: application/grpc)
  --jwt JSON           the payload of a JWT Envoy's jwt_authn validated (requestPrincipals, request.auth.*)";

pub fn help() -> &'static str {
    HELP
}

impl Args {
    pub fn parse(argv: &[String]) -> Result<Args, String> {
        let mut a = Args {
            bundle: None,
            request: Request::new("GET", "/"),
            rest: Vec::new(),
            flags: Vec::new(),
        };
        let mut it = argv.iter();
        while let Some(arg) = it.next() {
            let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--bundle" => a.bundle = Some(value(arg)?),
                "--principal" => a.request.peer = Peer::from_uri_san(&value(arg)?),
                "--method" => a.request.method = value(arg)?,
                "--path" => {
                    let p = value(arg)?;
                    a.request.path = spiffe_authz::request::path::canonicalize(&p, &Default::default())
                        .map_err(|e| format!("--path {p:?}: {e}"))?;
                    a.request.query = spiffe_authz::Request::new("GET", &p).query;
                }
                "--host" => a.request.set_authority(&value(arg)?),
                "--port" => {
                    let v = value(arg)?;
                    a.request.port = Some(v.parse().map_err(|_| format!("--port {v:?} is not a port number"))?);
                }
                "--source-ip" => {
                    let v = value(arg)?;
                    a.request.source_ip = Some(
                        v.parse()
                            .map_err(|_| format!("--source-ip {v:?} is not an IP address"))?,
                    );
                }
                "--header" => {
                    let v = value(arg)?;
                    let (n, val) = v
                        .split_once(':')
                        .ok_or_else(|| format!("--header {v:?} is not 'name: value'"))?;
                    a.request.add_header(n.trim(), val.trim());
                }
                "--jwt" => {
                    let v = value(arg)?;
                    let payload: serde_json::Value =
                        serde_json::from_str(&v).map_err(|e| format!("--jwt: not a JSON object: {e}"))?;
                    if !payload.is_object() {
                        return Err("--jwt: not a JSON object".into());
                    }
                    a.request.jwt = Some(payload);
                }
                "--grpc" => {
                    a.request.grpc = true;
                    a.request.add_header("content-type", "application/grpc");
                }
                s if s.starts_with("--") => {
                    let v = value(arg)?;
                    a.flags.push((s.to_string(), v));
                }
                s => a.rest.push(s.to_string()),
            }
        }
        if a.request.grpc && a.request.method == "GET" {
            a.request.method = "POST".into();
        }
        Ok(a)
    }
}
