//! Four Proxy-Wasm host calls the SDK (proxy-wasm 0.2) does not offer in the form the filter
//! needs, declared here against the ABI (proxy-wasm/spec, abi-versions/v0.2.1):
//!
//! - `proxy_get_header_map_pairs`, handing over the host's buffer as it is: the SDK's
//!   `get_map_bytes` copies every header name into a `String` and every value into a `Vec` (two
//!   allocations per header, ~40 for a usual request, most never looked at), and panics on a
//!   host error. The filter decodes the buffer in place (`request::decode_pairs`) and copies
//!   only what the rules read.
//! - `proxy_get_property` with the property path as a constant: the SDK's `get_property` builds
//!   the NUL-separated path anew on every call (an allocation per read), and panics on a status
//!   it does not expect.
//! - `proxy_send_local_response` with its `status_code_details` argument: the SDK's
//!   `send_http_response` / `send_grpc_response` always pass none, and Envoy prints this string
//!   as `%RESPONSE_CODE_DETAILS%` in the access log (Istio's default format does).
//! - `proxy_set_property`, answering the host's status instead of panicking on it (the SDK's
//!   `hostcalls::set_property` panics on anything but `Ok`, which would trap the VM on a
//!   request the filter allows).
//!
//! The only unsafe code written in this crate: each call hands the host pointers and lengths of
//! live Rust slices that outlive the call; the host copies what it needs before returning. The
//! one buffer the host hands back is taken over as the SDK takes it (see [`header_map_pairs`]).
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

    fn proxy_get_header_map_pairs(map_type: u32, return_map_data: *mut *mut u8, return_map_size: *mut usize) -> u32;

    fn proxy_get_property(
        path_data: *const u8,
        path_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> u32;
}

/// The ABI's `MapType::HttpRequestHeaders`.
const HTTP_REQUEST_HEADERS: u32 = 0;

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

/// A property of the stream or its connection; `path` is its segments separated by NUL (see
/// `request::Attribute::key`). `None`: absent, empty, or the host refused (the engine then
/// decides without it, and every rule that needs it fails to match).
pub(crate) fn get_property(path: &[u8]) -> Option<Vec<u8>> {
    let mut data: *mut u8 = std::ptr::null_mut();
    let mut size: usize = 0;
    // SAFETY: `path` is a live slice the host reads during the call only; the host writes a
    // pointer and a length into the two live locals, nothing else.
    let status = unsafe { proxy_get_property(path.as_ptr(), path.len(), &mut data, &mut size) };
    if status != OK || data.is_null() {
        return None;
    }
    // SAFETY: as in `request_header_pairs`: a buffer of exactly `size` bytes from this module's
    // `proxy_on_memory_allocate`, filled by the host and handed over.
    Some(unsafe { Vec::from_raw_parts(data, size, size) })
}

/// The request headers in the pairs encoding, as the host serialized them, in one host call and
/// without copying them again. Err: the host's status (the filter then refuses the request).
pub(crate) fn request_header_pairs() -> Result<Vec<u8>, u32> {
    let mut data: *mut u8 = std::ptr::null_mut();
    let mut size: usize = 0;
    // SAFETY: the host writes a pointer and a length into the two live locals, nothing else.
    let status = unsafe { proxy_get_header_map_pairs(HTTP_REQUEST_HEADERS, &mut data, &mut size) };
    if status != OK {
        return Err(status);
    }
    if data.is_null() {
        return Ok(Vec::new());
    }
    // SAFETY: a non-null `data` is a buffer of exactly `size` bytes that the host obtained from
    // this module's `proxy_on_memory_allocate` (the SDK's: a `Box<[u8]>` of `size` bytes from
    // the global allocator, leaked) and filled whole, then handed over: this module owns it now.
    // The SDK's own `get_map_bytes` takes it over the same way.
    Ok(unsafe { Vec::from_raw_parts(data, size, size) })
}
