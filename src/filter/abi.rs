//! Two Proxy-Wasm host calls the SDK (proxy-wasm 0.2) does not offer in the form the filter
//! needs, declared here against the ABI (proxy-wasm/spec, abi-versions/v0.2.1):
//!
//! - `proxy_send_local_response` with its `status_code_details` argument: the SDK's
//!   `send_http_response` / `send_grpc_response` always pass none, and Envoy prints this string
//!   as `%RESPONSE_CODE_DETAILS%` in the access log (Istio's default format does).
//! - `proxy_set_property`, answering the host's status instead of panicking on it (the SDK's
//!   `hostcalls::set_property` panics on anything but `Ok`, which would trap the VM on a
//!   request the filter allows).
//!
//! The only unsafe code written in this crate: each call hands the host pointers and lengths of
//! live Rust slices that outlive the call; the host copies what it needs before returning.
#![allow(unsafe_code)]

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_send_local_response(
        status_code: u32,
        status_code_details_data: *const u8,
        status_code_details_size: usize,
        body_data: *const u8,
        body_size: usize,
        headers_data: *const u8,
        headers_size: usize,
        grpc_status: i32,
    ) -> u32;

    fn proxy_set_property(path_data: *const u8, path_size: usize, value_data: *const u8, value_size: usize) -> u32;
}

/// The ABI's `WasmResult::Ok`.
const OK: u32 = 0;

/// Answers the stream locally. `grpc_status` -1: an HTTP reply with `status`; otherwise a gRPC
/// status (then `body` is the grpc-message and `status` 200). `details` (no whitespace) is the
/// response code details Envoy records. Err: the host's status.
pub(crate) fn send_local_response(
    status: u32,
    details: &str,
    body: &[u8],
    headers: &[(&str, &str)],
    grpc_status: i32,
) -> Result<(), u32> {
    let headers: Vec<(&[u8], &[u8])> = headers.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())).collect();
    let headers = crate::request::encode_pairs(&headers);
    // SAFETY: every pointer/length pair describes a live slice of this frame; the host reads them
    // during the call only.
    let status = unsafe {
        proxy_send_local_response(
            status,
            details.as_ptr(),
            details.len(),
            body.as_ptr(),
            body.len(),
            headers.as_ptr(),
            headers.len(),
            grpc_status,
        )
    };
    if status == OK {
        Ok(())
    } else {
        Err(status)
    }
}

/// Sets a property of the stream (Envoy: filter state `wasm.<name>`, which the access log prints
/// as `%FILTER_STATE(wasm.<name>:PLAIN)%`). Err: the host's status.
pub(crate) fn set_property(name: &str, value: &[u8]) -> Result<(), u32> {
    // A one-segment property path (segments are NUL-separated).
    // SAFETY: as above.
    let status = unsafe { proxy_set_property(name.as_ptr(), name.len(), value.as_ptr(), value.len()) };
    if status == OK {
        Ok(())
    } else {
        Err(status)
    }
}
