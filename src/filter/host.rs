//! Reads from the host, each fallible and none panicking: a missing or unreadable attribute is
//! `None` and the engine decides without it (every rule that needs it fails to match, which
//! for ALLOW rules denies and is the safe direction; see README "In Envoy").
//!
//! The SDK's `Context::get_property` unwraps host errors; these wrappers call
//! `proxy_wasm::hostcalls` and handle `Err`.

use std::net::{IpAddr, SocketAddr};

use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, LogLevel, MapType};

use super::pairs;

/// Logs through the host, ignoring a failing host (there is nowhere else to report it).
pub(crate) fn log(level: LogLevel, msg: &str) {
    let _ = hostcalls::log(level, msg);
}

/// The raw bytes of an attribute (`None`: absent, empty or unreadable).
pub(crate) fn property(path: &[&str]) -> Option<Vec<u8>> {
    hostcalls::get_property(path.to_vec()).ok().flatten()
}

/// A string attribute. Not UTF-8 → `None`.
pub(crate) fn string(path: &[&str]) -> Option<String> {
    String::from_utf8(property(path)?).ok()
}

/// An integer attribute: Envoy serializes CEL ints as 8 bytes, little-endian.
pub(crate) fn int(path: &[&str]) -> Option<i64> {
    let b: [u8; 8] = property(path)?.try_into().ok()?;
    Some(i64::from_le_bytes(b))
}

/// A map attribute (`xds.node.metadata.LABELS`): Envoy serializes CEL maps in Proxy-Wasm's pairs
/// format.
pub(crate) fn map(path: &[&str]) -> Option<Vec<(String, String)>> {
    pairs::decode(&property(path)?)
}

/// An address attribute: `"10.0.0.1:8080"`, `"[::1]:8080"`, or a bare IP.
pub(crate) fn ip(path: &[&str]) -> Option<IpAddr> {
    let s = string(path)?;
    s.parse::<SocketAddr>().map(|a| a.ip()).ok().or_else(|| s.parse().ok())
}

/// The plugin configuration (the bundle JSON).
pub(crate) fn plugin_configuration(size: usize) -> Option<Vec<u8>> {
    hostcalls::get_buffer(BufferType::PluginConfiguration, 0, size)
        .ok()
        .flatten()
}

/// Every request header, read once. Names are lowercase (Envoy normalizes them); values that
/// are not UTF-8 are converted lossily so that presence checks still see them.
pub(crate) fn request_headers() -> Vec<(String, String)> {
    hostcalls::get_map_bytes(MapType::HttpRequestHeaders)
        .map(|m| {
            m.into_iter()
                // Valid UTF-8 (the usual case) keeps its buffer: no copy per header.
                .map(|(k, v)| {
                    let v = String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                    (k, v)
                })
                .collect()
        })
        .unwrap_or_default()
}
