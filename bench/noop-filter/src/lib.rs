//! A Proxy-Wasm HTTP filter that does nothing: the floor spiffe-authz is measured against.
//! One root context, one HTTP context per stream, every callback the SDK's default (continue).
//!
//! For profiling (`bench/run.py --probes`), its plugin configuration may name host calls to make
//! on each request's headers, the same ones spiffe-authz makes, without any policy work:
//! `headers` (the whole request header map, taken as the host hands it over and dropped, as
//! spiffe-authz reads it: `proxy_get_header_map_pairs`), `uri`, `dport`, `daddr`, `sni`, `saddr`
//! (the Envoy attributes spiffe-authz reads), `connid` (`connection.id`), `path`, `authority`,
//! `method`, `ctype`, `xfcc` (one header by name each), `set` (sets a request header, as Drako's
//! `x-user-id`), `metric` (a counter). Empty configuration: nothing at all.

use std::rc::Rc;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType, MetricType};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Warn);
    proxy_wasm::set_root_context(|_| Box::new(Root { calls: Rc::new(Vec::new()), metric: None }));
}}

#[derive(Clone, Copy)]
enum Call {
    Headers,
    Property(&'static [&'static str]),
    Header(&'static str),
    Set,
    Metric,
}

struct Root {
    calls: Rc<Vec<Call>>,
    metric: Option<u32>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, size: usize) -> bool {
        let conf = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, size)
            .ok()
            .flatten()
            .unwrap_or_default();
        let conf = String::from_utf8_lossy(&conf);
        let calls = conf
            .split(',')
            .filter_map(|c| match c.trim() {
                "headers" => Some(Call::Headers),
                "uri" => Some(Call::Property(&["connection", "uri_san_peer_certificate"])),
                "dport" => Some(Call::Property(&["destination", "port"])),
                "daddr" => Some(Call::Property(&["destination", "address"])),
                "sni" => Some(Call::Property(&["connection", "requested_server_name"])),
                "saddr" => Some(Call::Property(&["source", "address"])),
                "connid" => Some(Call::Property(&["connection", "id"])),
                "path" => Some(Call::Header(":path")),
                "authority" => Some(Call::Header(":authority")),
                "method" => Some(Call::Header(":method")),
                "ctype" => Some(Call::Header("content-type")),
                "xfcc" => Some(Call::Header("x-forwarded-client-cert")),
                "set" => Some(Call::Set),
                "metric" => Some(Call::Metric),
                _ => None,
            })
            .collect();
        self.calls = Rc::new(calls);
        self.metric = hostcalls::define_metric(MetricType::Counter, "noop.requests").ok();
        true
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Noop { calls: self.calls.clone(), metric: self.metric }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Noop {
    calls: Rc<Vec<Call>>,
    metric: Option<u32>,
}

impl Context for Noop {}

impl HttpContext for Noop {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        for call in self.calls.iter() {
            match *call {
                Call::Headers => {
                    let _ = std::hint::black_box(header_pairs());
                }
                Call::Set => {
                    let _ = hostcalls::set_map_value(MapType::HttpRequestHeaders, "x-user-id", Some("probe"));
                }
                Call::Property(p) => {
                    let _ = std::hint::black_box(hostcalls::get_property(p.to_vec()));
                }
                Call::Header(h) => {
                    let _ = std::hint::black_box(hostcalls::get_map_value_bytes(MapType::HttpRequestHeaders, h));
                }
                Call::Metric => {
                    if let Some(id) = self.metric {
                        let _ = hostcalls::increment_metric(id, 1);
                    }
                }
            }
        }
        Action::Continue
    }
}

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_get_header_map_pairs(map_type: u32, data: *mut *mut u8, size: *mut usize) -> u32;
}

/// The request header map as the host serializes it, in one host call, not decoded (as
/// spiffe-authz's src/filter/abi.rs reads it).
fn header_pairs() -> Option<Vec<u8>> {
    let mut data: *mut u8 = std::ptr::null_mut();
    let mut size = 0;
    // SAFETY: the host writes a pointer and a length into the two locals; a non-null pointer is
    // a buffer of `size` bytes from this module's `proxy_on_memory_allocate` (the SDK's), owned
    // by the module from then on.
    unsafe {
        if proxy_get_header_map_pairs(0, &mut data, &mut size) != 0 || data.is_null() {
            return None;
        }
        Some(Vec::from_raw_parts(data, size, size))
    }
}
