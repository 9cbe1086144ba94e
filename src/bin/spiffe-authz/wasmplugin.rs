//! `spiffe-authz wasmplugin`: an Istio `extensions.istio.io/v1alpha1 WasmPlugin` that loads the
//! filter with a bundle as its `pluginConfig`.
//!
//! What `sha256` means depends on the URL (istio/istio pkg/wasm/cache.go): for `file://` and
//! `http(s)://` it is the module's own sha256; for `oci://` Istio compares it with the digest of
//! the image *manifest*, not of the module. So `--wasm` computes it for the former and
//! `--oci-layout` (the output of `spiffe-authz package`) for the latter.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;
use sha2::Digest;

use crate::bundle::pair;
use crate::input;
use crate::oci;
use crate::output::{self, Data};
use crate::wasmplugin_checks as checks;
use crate::wasmplugin_object::{
    Metadata, Mode, PluginSpec, PortSelector, Selector, TargetRef, TrafficSelector, WasmPlugin,
};

/// Writes a WasmPlugin (phase AUTHZ, failStrategy FAIL_CLOSE, inbound traffic only, the bundle
/// as pluginConfig). Refuses what the API server would refuse; warns when the object is too
/// large for `kubectl apply`.
#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("checksum").multiple(false))]
pub struct Args {
    /// The bundle (JSON or YAML; - for standard input).
    #[arg(long, short = 'b', value_name = "FILE")]
    pub bundle: String,
    /// oci://REGISTRY/REPO:TAG (or @sha256:...), file:///path.wasm, https://...
    #[arg(long)]
    pub url: String,
    /// The checksum Istio verifies (64 hex digits).
    #[arg(long, value_name = "HEX", group = "checksum")]
    pub sha256: Option<String>,
    /// Compute sha256 from the module (for file:// and https:// URLs).
    #[arg(long, value_name = "FILE", group = "checksum")]
    pub wasm: Option<String>,
    /// Compute sha256 from `spiffe-authz package`'s layout: the image manifest digest, which
    /// Istio checks for oci:// URLs.
    #[arg(long, value_name = "DIR", group = "checksum")]
    pub oci_layout: Option<String>,
    /// metadata.name.
    #[arg(long, default_value = "spiffe-authz")]
    pub name: String,
    /// metadata.namespace [default: the bundle's workload namespace, else (mesh-wide) its
    /// settings.rootNamespace, else istio-system].
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// A workload label to select (repeatable) [default: the bundle's workload labels; none:
    /// every workload of the namespace, or of the mesh in the root namespace].
    #[arg(long, value_name = "KEY=VALUE", value_parser = pair, conflicts_with = "target_ref")]
    pub selector: Vec<(String, String)>,
    /// Attach to KIND/NAME instead of selecting workloads (repeatable): Gateway/NAME for a
    /// waypoint or gateway, Service/NAME (waypoints), ServiceEntry/NAME, GatewayClass/NAME.
    #[arg(long, value_name = "KIND/NAME")]
    pub target_ref: Vec<String>,
    /// Traffic the plugin runs on: SERVER is inbound only (the caller's certificate is the
    /// peer's); CLIENT and CLIENT_AND_SERVER add outbound and gateway listeners, where the
    /// caller is the local app and has no certificate.
    #[arg(long, value_enum, default_value = "SERVER")]
    pub mode: Mode,
    /// Run only on these destination ports (repeatable).
    #[arg(long, value_name = "PORT")]
    pub match_port: Vec<u16>,
    /// Carry the bundle in its compact form (gzip + base64): auto does when the plain object
    /// would be over 256 KiB, the most client-side `kubectl apply` can store.
    #[arg(long, value_enum, default_value = "auto")]
    pub compress: Compress,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "yaml")]
    pub output: Data,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
}

/// When `wasmplugin` compresses the bundle.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compress {
    Auto,
    Always,
    Never,
}

pub fn run(a: &Args) -> Result<ExitCode, String> {
    let src = input::read_bundle(&a.bundle)?;
    // The bundle must load in the filter: refuse now rather than at the proxies.
    let engine = src.compile()?;
    let bundle = src.value()?;
    let (_, given_compact) = src.expanded()?;
    checks::url(&a.url)?;
    let sha256 = checksum(a)?;
    let target_refs = target_refs(&a.target_ref)?;
    let wl = engine.workload();
    let mut labels: BTreeMap<String, String> = a.selector.iter().cloned().collect();
    if labels.is_empty() && target_refs.is_empty() {
        labels = wl.labels.clone().unwrap_or_default();
    }
    checks::selector(&labels)?;
    let root = bundle["settings"]["rootNamespace"].as_str().unwrap_or("istio-system");
    let namespace = match (&a.namespace, &wl.namespace) {
        (Some(ns), _) | (None, Some(ns)) => ns.clone(),
        (None, None) => root.to_string(),
    };
    checks::namespace(&namespace)?;
    checks::name(&a.name)?;
    if target_refs.iter().any(|t| t.kind == "GatewayClass") && namespace != root {
        return Err(format!(
            "--target-ref GatewayClass/...: Istio applies GatewayClass attachments only from the \
             root namespace ({root}), not {namespace}"
        ));
    }
    let mut plugin = WasmPlugin {
        api_version: "extensions.istio.io/v1alpha1",
        kind: "WasmPlugin",
        metadata: Metadata {
            name: a.name.clone(),
            namespace,
        },
        spec: PluginSpec {
            selector: (!labels.is_empty()).then_some(Selector { match_labels: labels }),
            target_refs,
            url: a.url.clone(),
            sha256,
            phase: "AUTHZ",
            fail_strategy: "FAIL_CLOSE",
            traffic: vec![TrafficSelector {
                mode: a.mode,
                ports: a.match_port.iter().map(|&number| PortSelector { number }).collect(),
            }],
            plugin_config: serde_json::from_str(&src.json).map_err(|e| format!("{}: {e}", src.name))?,
        },
    };
    let plain = object_size(&plugin)?;
    if !given_compact
        && (a.compress == Compress::Always || a.compress == Compress::Auto && plain > checks::ANNOTATIONS_LIMIT)
    {
        let compact = spiffe_authz::compact::compress(&bundle.to_string());
        plugin.spec.plugin_config = serde_json::from_str(&compact).map_err(|e| e.to_string())?;
        eprintln!(
            "note: the bundle travels in its compact form (gzip + base64): the WasmPlugin is {} bytes instead of {plain}",
            object_size(&plugin)?
        );
    }
    for w in warnings(a, &plugin)? {
        eprintln!("warning: {w}");
    }
    let text = match a.output {
        Data::Yaml => format!(
            "# Generated by `spiffe-authz wasmplugin` from {}.\n{}",
            src.name,
            output::render(&plugin, Data::Yaml)?
        ),
        Data::Json => output::render(&plugin, Data::Json)?,
    };
    output::emit(&text, a.output_file.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

/// The object's size as kubectl sends it (compact JSON).
fn object_size(plugin: &WasmPlugin) -> Result<usize, String> {
    serde_json::to_string(plugin)
        .map(|j| j.len())
        .map_err(|e| e.to_string())
}

fn warnings(a: &Args, plugin: &WasmPlugin) -> Result<Vec<String>, String> {
    let mut out = checks::size(object_size(plugin)?);
    if a.mode != Mode::Server {
        out.push(format!(
            "--mode {:?}: the plugin also runs on outbound and gateway listeners, where the caller \
             is the local application or an external client without a mesh certificate: an ALLOW \
             on principals refuses the workload's own outgoing calls",
            a.mode
        ));
    }
    if !plugin.spec.target_refs.is_empty() {
        out.push(
            "--target-ref: in a waypoint the filter sees the connection from ztunnel, not the \
             caller's certificate (Istio passes the caller's identity in filter state \
             io.istio.peer_principal, which the filter does not read): identity rules will \
             treat callers as unauthenticated"
                .into(),
        );
    }
    Ok(out)
}

/// `KIND/NAME` → a target reference in the group Istio expects for that kind.
fn target_refs(specs: &[String]) -> Result<Vec<TargetRef>, String> {
    if specs.len() > 16 {
        return Err("at most 16 --target-ref (the CRD's maxItems)".into());
    }
    specs
        .iter()
        .map(|s| {
            let (kind, name) = s
                .split_once('/')
                .filter(|(k, n)| !k.is_empty() && !n.is_empty())
                .ok_or_else(|| format!("--target-ref {s:?} is not KIND/NAME"))?;
            let group = checks::target_kind(kind)?;
            checks::name(name).map_err(|e| format!("--target-ref {s:?}: {e}"))?;
            Ok(TargetRef {
                group,
                kind: kind.to_string(),
                name: name.to_string(),
            })
        })
        .collect()
}

/// The `sha256` field, from at most one of `--sha256`, `--wasm`, `--oci-layout`.
fn checksum(a: &Args) -> Result<Option<String>, String> {
    let oci = a.url.starts_with("oci://") || !a.url.contains("://");
    let sum = if let Some(hex) = &a.sha256 {
        let hex = hex.trim_start_matches("sha256:").to_ascii_lowercase();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("--sha256 {hex:?} is not 64 hex digits"));
        }
        Some(hex)
    } else if let Some(path) = &a.wasm {
        if oci {
            return Err(
                "for an oci:// url Istio checks sha256 against the image manifest digest, not the module's: \
                 use --oci-layout dist/oci (from `spiffe-authz package`) or --sha256"
                    .into(),
            );
        }
        let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
        Some(oci::hex(&sha2::Sha256::digest(&bytes)))
    } else if let Some(dir) = &a.oci_layout {
        if !oci {
            return Err("--oci-layout gives an image manifest digest, which only an oci:// url uses".into());
        }
        Some(manifest_digest(Path::new(dir))?)
    } else {
        None
    };
    // `oci://repo@sha256:X` must agree with `sha256` (Istio refuses the module otherwise).
    if let (Some(sum), Some((_, pinned))) = (&sum, a.url.split_once("@sha256:")) {
        if pinned != sum {
            return Err(format!("--url pins sha256:{pinned} but the checksum is {sum}"));
        }
    }
    Ok(sum)
}

/// The single manifest digest of an OCI layout, as hex.
fn manifest_digest(dir: &Path) -> Result<String, String> {
    let path = dir.join("index.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let index: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    match index["manifests"].as_array().map(Vec::as_slice) {
        Some([m]) => m["digest"]
            .as_str()
            .and_then(|d| d.strip_prefix("sha256:"))
            .map(String::from)
            .ok_or_else(|| format!("{}: manifests[0].digest is not sha256:...", path.display())),
        _ => Err(format!("{}: expected exactly one manifest", path.display())),
    }
}

#[cfg(test)]
#[path = "wasmplugin_tests.rs"]
mod tests;
