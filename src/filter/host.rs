//! Reads from the host, each fallible and none panicking: a missing or unreadable attribute is
//! `None` and the engine decides without it (every rule that needs it fails to match, which
//! for ALLOW rules denies and is the safe direction; see README "In Envoy").
//!
//! The SDK's `Context::get_property` unwraps host errors; these wrappers call
//! `proxy_wasm::hostcalls` and handle `Err`. What the bytes mean is decided outside the filter
//! (`request::incoming`, `Workload::from_node_metadata`), where it is tested natively.

use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, LogLevel, MapType};

use crate::request::{Attribute, HostReads};

/// Logs through the host, ignoring a failing host (there is nowhere else to report it).
pub(crate) fn log(level: LogLevel, msg: &str) {
    let _ = hostcalls::log(level, msg);
}

/// The raw bytes of a property (`None`: absent, empty or unreadable). One host call.
pub(crate) fn property(path: &[&str]) -> Option<Vec<u8>> {
    hostcalls::get_property(path.to_vec()).ok().flatten()
}

/// The stream's attributes, one `get_property` per read.
pub(crate) struct Stream;

impl HostReads for Stream {
    fn read(&mut self, a: Attribute) -> Option<Vec<u8>> {
        property(a.path())
    }

    fn read_filter_metadata(&mut self, filter: &str) -> Option<Vec<u8>> {
        property(&["metadata", "filter_metadata", filter])
    }
}

/// The plugin configuration (the bundle JSON).
pub(crate) fn plugin_configuration(size: usize) -> Option<Vec<u8>> {
    hostcalls::get_buffer(BufferType::PluginConfiguration, 0, size)
        .ok()
        .flatten()
}

/// Every request header, in one host call: names (lowercase in Envoy) and raw values.
pub(crate) fn request_headers() -> Vec<(String, Vec<u8>)> {
    hostcalls::get_map_bytes(MapType::HttpRequestHeaders).unwrap_or_default()
}
