//! `spiffe-authz push`: a new bundle for a running Envoy, without a restart, the way Istio pushes
//! a WasmPlugin: by ECDS (extension config discovery). Envoy watches a directory
//! (`config_discovery` → `path_config_source` + `watched_directory`, see envoy/ecds.yaml); this
//! writes the `TypedExtensionConfig` named like the HTTP filter to a temporary file in that
//! directory and renames it over the watched file, so Envoy only ever reads a complete file.
//!
//! Envoy then builds the new filter configuration beside the old one: streams already started
//! finish with the old bundle, new streams get the new one. A bundle the filter refuses
//! (`on_configure` false) is rejected by Envoy (ECDS `config_fail`), and the old one keeps
//! serving; `push` validates with the same engine first, so that only happens with
//! `--no-validate` (for testing exactly that) or a filter of another version.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{json, Value};
use sha2::Digest;

use crate::input;

/// Writes ECDS_DIR/NAME.json (a DiscoveryResponse holding the TypedExtensionConfig NAME)
/// atomically (temporary file + rename), for an Envoy whose HTTP filter NAME has
/// config_discovery from that file (envoy/ecds.yaml). The bundle is compiled first: an invalid
/// one is refused here, with its file:line:column. Prints the version pushed.
#[derive(clap::Args)]
pub struct Args {
    /// The bundle (JSON or YAML; - for standard input).
    #[arg(long, short = 'b', value_name = "FILE")]
    pub bundle: String,
    /// The directory Envoy watches.
    #[arg(long, value_name = "ECDS_DIR")]
    pub dir: PathBuf,
    /// The module path Envoy loads; keep it the same across pushes so Envoy reuses the VM.
    #[arg(long, value_name = "PATH", default_value = "dist/spiffe_authz.wasm")]
    pub wasm: PathBuf,
    /// The HTTP filter's name.
    #[arg(long, default_value = "spiffe_authz")]
    pub name: String,
    /// Push even a bundle the engine refuses (to test that Envoy rejects it).
    #[arg(long)]
    pub no_validate: bool,
}

pub fn run(a: &Args) -> Result<ExitCode, String> {
    let (name, text) = input::read_input(&a.bundle)?;
    // Unvalidated, the text goes to Envoy as it is (even if it is not JSON).
    let bundle = if a.no_validate {
        text
    } else {
        let src = input::Source::new(name, text)?;
        src.compile()?;
        src.json
    };
    let wasm = absolute(&a.wasm)?;
    let version = write(&a.dir, &a.name, &wasm, &bundle)?;
    outln!("{version}");
    Ok(ExitCode::SUCCESS)
}

fn absolute(p: &Path) -> Result<PathBuf, String> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    let cwd = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
    Ok(cwd.join(p))
}

/// The ECDS resource: the same Wasm filter configuration as the static envoy/envoy.yaml, with
/// the bundle as its `configuration`.
pub fn resource(filter: &str, wasm: &Path, bundle: &str) -> Value {
    json!({
        "@type": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
        "name": filter,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {
                "name": filter,
                "root_id": "spiffe_authz",
                "configuration": {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": bundle},
                // A crashed VM answers 503 rather than forwarding.
                "failure_policy": "FAIL_CLOSED",
                "vm_config": {
                    "vm_id": "spiffe_authz",
                    "runtime": "envoy.wasm.runtime.v8",
                    "code": {"local": {"filename": wasm.display().to_string()}},
                },
            },
        },
    })
}

/// Writes `dir/<filter>.json` by temporary file + rename; returns the version written.
pub fn write(dir: &Path, filter: &str, wasm: &Path, bundle: &str) -> Result<String, String> {
    let res = resource(filter, wasm, bundle);
    let body = serde_json::to_vec(&res).map_err(|e| e.to_string())?;
    let version = crate::oci::hex(&sha2::Sha256::digest(&body))[..16].to_string();
    let response = json!({"version_info": version, "resources": [res]});
    let text = serde_json::to_vec_pretty(&response).map_err(|e| e.to_string())?;
    let target = dir.join(format!("{filter}.json"));
    // The temporary name must not be the watched one; same directory, so rename is atomic.
    let tmp = dir.join(format!(".{filter}.json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, &text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &target).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", target.display())
    })?;
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_discovery_response_atomically() {
        let dir = std::env::temp_dir().join(format!("spiffe-authz-push-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let v = write(&dir, "spiffe_authz", Path::new("/x.wasm"), r#"{"resources": []}"#).unwrap();
        let text = std::fs::read_to_string(dir.join("spiffe_authz.json")).unwrap();
        let r: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(r["version_info"], v.as_str());
        let ext = &r["resources"][0];
        assert_eq!(ext["name"], "spiffe_authz");
        assert_eq!(
            ext["typed_config"]["config"]["configuration"]["value"],
            r#"{"resources": []}"#
        );
        // Only the target remains: no temporary file is left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
