//! `spiffe-authz package`: the module as an OCI image layout, per the Wasm Artifact Image
//! Specification's *compat* variant (solo-io/wasm spec/spec-compat.md), which Istio's
//! `WasmPlugin` pulls from `oci://` URLs (istio/istio pkg/wasm/imagefetcher.go):
//!
//! * exactly one layer, media type `application/vnd.oci.image.layer.v1.tar+gzip`, a tar holding
//!   `plugin.wasm`;
//! * the manifest annotated `module.wasm.image/variant: compat`.
//!
//! The output is byte-for-byte reproducible (tar and gzip times are zero, JSON keys sorted), so
//! the manifest digest, which Istio checks against `WasmPlugin.spec.sha256` for `oci://` URLs,
//! is known before the image is pushed.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Writes an OCI image layout (oci-layout, index.json, blobs/sha256/...) holding the module as a
/// Wasm image (compat variant: one tar+gzip layer with plugin.wasm) and prints the manifest
/// digest: the `sha256` of a WasmPlugin whose url is oci://. Push it with e.g.
/// `oras cp --from-oci-layout dist/oci:TAG REGISTRY/spiffe-authz:TAG` or
/// `skopeo copy --preserve-digests oci:dist/oci:TAG docker://REGISTRY/spiffe-authz:TAG`.
#[derive(clap::Args)]
pub struct Args {
    /// The module (dist/spiffe_authz.wasm).
    #[arg(long, value_name = "FILE")]
    pub wasm: String,
    /// The layout directory to write (dist/oci).
    #[arg(long, value_name = "DIR")]
    pub out: std::path::PathBuf,
    /// The image tag [default: the version of this tool].
    #[arg(long)]
    pub tag: Option<String>,
}

pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const VARIANT: &str = "module.wasm.image/variant";

pub fn run(a: &Args) -> Result<ExitCode, String> {
    let wasm_path = &a.wasm;
    let out = a.out.as_path();
    let tag = a.tag.as_deref().unwrap_or(env!("CARGO_PKG_VERSION"));
    let wasm = std::fs::read(wasm_path).map_err(|e| format!("{wasm_path}: {e}"))?;
    if !wasm.starts_with(b"\0asm") {
        return Err(format!("{wasm_path}: not a WebAssembly module"));
    }
    let digest = write_layout(out, &wasm, tag)?;
    outln!("{digest}");
    eprintln!(
        "wrote {} (tag {tag}); WasmPlugin sha256 for oci:// = {}",
        out.display(),
        digest.trim_start_matches("sha256:")
    );
    Ok(ExitCode::SUCCESS)
}

/// `sha256:<hex>`.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the layout and returns the manifest digest.
pub fn write_layout(out: &Path, wasm: &[u8], tag: &str) -> Result<String, String> {
    let err = |e: std::io::Error| format!("{}: {e}", out.display());
    if out.exists() {
        // Replace a layout we wrote before; never delete anything else.
        if !out.join("oci-layout").exists() && out.read_dir().map_err(err)?.next().is_some() {
            return Err(format!(
                "{}: exists and is not an OCI layout; refusing to overwrite",
                out.display()
            ));
        }
        std::fs::remove_dir_all(out).map_err(err)?;
    }
    let blobs = out.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs).map_err(err)?;
    let put = |bytes: &[u8]| -> Result<(String, usize), String> {
        let d = digest(bytes);
        let name = blobs.join(d.trim_start_matches("sha256:"));
        std::fs::write(&name, bytes).map_err(|e| format!("{}: {e}", name.display()))?;
        Ok((d, bytes.len()))
    };
    let tar = tar_one("plugin.wasm", wasm);
    let gz = gzip(&tar).map_err(err)?;
    let (layer, layer_size) = put(&gz)?;
    let config = json!({
        "architecture": "wasm",
        "os": "wasip1",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [digest(&tar)]},
    });
    let (config_digest, config_size) = put(&to_bytes(&config)?)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": {"mediaType": CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": LAYER, "digest": layer, "size": layer_size}],
        "annotations": {VARIANT: "compat"},
    });
    let (manifest_digest, manifest_size) = put(&to_bytes(&manifest)?)?;
    let index = json!({
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": [{
            "mediaType": MANIFEST, "digest": manifest_digest, "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    });
    std::fs::write(out.join("index.json"), to_bytes(&index)?).map_err(err)?;
    std::fs::write(out.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(err)?;
    Ok(manifest_digest)
}

fn to_bytes(v: &Value) -> Result<Vec<u8>, String> {
    serde_json::to_vec(v).map_err(|e| e.to_string())
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    // mtime 0 and "unknown" OS: the same input always gives the same bytes.
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    enc.finish()
}

/// A POSIX ustar archive holding one regular file (mode 0644, owner 0:0, mtime 0), padded to
/// the customary 10240-byte record.
fn tar_one(name: &str, data: &[u8]) -> Vec<u8> {
    let mut h = [0u8; 512];
    let field = |h: &mut [u8; 512], at: usize, len: usize, v: &[u8]| {
        let n = v.len().min(len);
        h[at..at + n].copy_from_slice(&v[..n]);
    };
    let octal = |v: u64, len: usize| format!("{v:0w$o}\0", w = len - 1).into_bytes();
    field(&mut h, 0, 100, name.as_bytes());
    field(&mut h, 100, 8, &octal(0o644, 8));
    field(&mut h, 108, 8, &octal(0, 8));
    field(&mut h, 116, 8, &octal(0, 8));
    field(&mut h, 124, 12, &octal(data.len() as u64, 12));
    field(&mut h, 136, 12, &octal(0, 12));
    h[156] = b'0';
    field(&mut h, 257, 6, b"ustar\0");
    field(&mut h, 263, 2, b"00");
    // The checksum is computed with its own field taken as eight spaces.
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    field(&mut h, 148, 8, format!("{sum:06o}\0 ").as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().next_multiple_of(512), 0);
    out.extend_from_slice(&[0u8; 1024]);
    out.resize(out.len().next_multiple_of(10240), 0);
    out
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn blob(dir: &Path, d: &str) -> Vec<u8> {
        std::fs::read(dir.join("blobs/sha256").join(d.trim_start_matches("sha256:"))).unwrap()
    }

    #[test]
    fn layout_digests_sizes_and_layer_content_agree() {
        let dir = std::env::temp_dir().join(format!("spiffe-authz-oci-{}", std::process::id()));
        let wasm = b"\0asm\x01\0\0\0 a tiny module".repeat(100);
        let d = write_layout(&dir, &wasm, "t1").unwrap();
        // Every blob is named by its own digest.
        for f in std::fs::read_dir(dir.join("blobs/sha256")).unwrap() {
            let f = f.unwrap();
            let bytes = std::fs::read(f.path()).unwrap();
            assert_eq!(digest(&bytes), format!("sha256:{}", f.file_name().to_str().unwrap()));
        }
        let index: Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
        let m = &index["manifests"][0];
        assert_eq!(m["digest"], d.as_str());
        assert_eq!(m["annotations"]["org.opencontainers.image.ref.name"], "t1");
        let manifest_bytes = blob(&dir, &d);
        assert_eq!(m["size"], manifest_bytes.len());
        let manifest: Value = serde_json::from_slice(&manifest_bytes).unwrap();
        assert_eq!(manifest["annotations"][VARIANT], "compat");
        let layers = manifest["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 1);
        assert_eq!(layers[0]["mediaType"], LAYER);
        let gz = blob(&dir, layers[0]["digest"].as_str().unwrap());
        assert_eq!(layers[0]["size"], gz.len());
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut tar).unwrap();
        let config: Value =
            serde_json::from_slice(&blob(&dir, manifest["config"]["digest"].as_str().unwrap())).unwrap();
        assert_eq!(config["rootfs"]["diff_ids"][0], digest(&tar));
        assert_eq!(&tar[..11], b"plugin.wasm");
        assert_eq!(&tar[512..512 + wasm.len()], &wasm[..]);
        // Reproducible: the same module gives the same digest.
        assert_eq!(write_layout(&dir, &wasm, "t1").unwrap(), d);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tar_header_checksum_is_valid() {
        let t = tar_one("plugin.wasm", b"abc");
        let mut h = t[..512].to_vec();
        let stored = u32::from_str_radix(std::str::from_utf8(&h[148..154]).unwrap(), 8).unwrap();
        h[148..156].fill(b' ');
        assert_eq!(stored, h.iter().map(|&b| u32::from(b)).sum::<u32>());
        assert_eq!(t.len(), 10240);
    }
}
