//! The engine alone, natively: per-decision cost and memory of the bundles `bench/run.py`
//! generates, so the benchmark can tell the engine's cost from the VM's round trips.
//!
//! Not a timed test: it is `#[ignore]`d and run by `bench/run.py` (release build):
//!
//! ```text
//! SPIFFE_AUTHZ_BENCH_DIR=DIR cargo test --release --test bench_engine -- --ignored --nocapture
//! ```
//!
//! DIR holds `cases.json` (`[{"name", "file", "principal", "path", "port"}]`) and the bundles it
//! names. One `BENCH {json}` line per case on stdout: load time, heap held by the engine, the
//! cost of one decision and its heap allocations (a counting global allocator sees them), the
//! same for "build the Request field by field, then decide" (comparable with earlier runs), and
//! for "build it with `request::incoming` from the header pairs, as the filter does, then
//! decide" (the header map and the attributes copied in as the host would hand them over).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use spiffe_authz::request::path::{canonicalize, Options};
use spiffe_authz::request::{incoming, Attribute, HostReads};
use spiffe_authz::{Engine, Peer, Request, Workload};

/// The system allocator, counting: allocations made, bytes live, peak bytes live.
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        let live = LIVE.fetch_add(l.size(), Relaxed) + l.size();
        PEAK.fetch_max(live, Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        if new >= l.size() {
            let live = LIVE.fetch_add(new - l.size(), Relaxed) + new - l.size();
            PEAK.fetch_max(live, Relaxed);
        } else {
            LIVE.fetch_sub(l.size() - new, Relaxed);
        }
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static A: Counting = Counting;

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    file: String,
    principal: String,
    path: String,
    port: Option<u16>,
}

/// The Request as src/filter/http.rs builds it from Envoy's attributes.
fn build(principal: &str, path: &str, port: Option<u16>) -> Request {
    let mut req = Request {
        peer: Peer::from_uri_san(principal),
        method: "GET".to_string(),
        path: canonicalize(path, &Options::default()).unwrap_or_default(),
        port,
        source_ip: Some([127, 0, 0, 1].into()),
        destination_ip: Some([127, 0, 0, 1].into()),
        ..Request::default()
    };
    req.remote_ip = req.source_ip;
    req.set_authority("127.0.0.1:10000");
    req
}

/// The attributes Envoy would give for the case (what `host::Stream` reads in the filter).
struct Host<'c>(&'c Case);

impl HostReads for Host<'_> {
    fn read(&mut self, a: Attribute) -> Option<Vec<u8>> {
        match a {
            Attribute::PeerUriSan => Some(self.0.principal.as_bytes().to_vec()),
            Attribute::DestinationPort => self.0.port.map(|p| i64::from(p).to_le_bytes().to_vec()),
            Attribute::SourceAddress | Attribute::DestinationAddress => Some(b"127.0.0.1:40000".to_vec()),
            Attribute::Sni | Attribute::JwtMetadata | Attribute::Protocol => None,
        }
    }
}

/// The request headers as the filter receives them from the host.
fn headers(c: &Case) -> Vec<(String, Vec<u8>)> {
    [
        (":method", "GET"),
        (":path", c.path.as_str()),
        (":authority", "127.0.0.1:10000"),
        (":scheme", "http"),
        ("user-agent", "wrk"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
    .collect()
}

/// Median nanoseconds per call of `f` over batches of about 50 ms, and allocations per call.
fn measure(mut f: impl FnMut()) -> (f64, f64) {
    let mut n = 1u64;
    loop {
        let t = Instant::now();
        (0..n).for_each(|_| f());
        if t.elapsed() > Duration::from_millis(50) {
            break;
        }
        n *= 2;
    }
    let a0 = ALLOCS.load(Relaxed);
    let mut batches: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            (0..n).for_each(|_| f());
            t.elapsed().as_nanos() as f64 / n as f64
        })
        .collect();
    let allocs = (ALLOCS.load(Relaxed) - a0) as f64 / (7 * n) as f64;
    batches.sort_by(f64::total_cmp);
    (batches[3], allocs)
}

#[test]
#[ignore = "a benchmark: run by bench/run.py"]
fn engine_cost() {
    let Ok(dir) = std::env::var("SPIFFE_AUTHZ_BENCH_DIR") else {
        eprintln!("SPIFFE_AUTHZ_BENCH_DIR is not set (bench/run.py sets it)");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let cases: Vec<Case> = serde_json::from_slice(&std::fs::read(dir.join("cases.json")).unwrap()).unwrap();
    for c in cases {
        let json = std::fs::read(dir.join(&c.file)).unwrap();
        let (live0, t) = (LIVE.load(Relaxed), Instant::now());
        PEAK.store(live0, Relaxed);
        let engine = match Engine::from_json(&json, &Workload::default()) {
            Ok(e) => e,
            Err(e) => {
                println!("BENCH {}", serde_json::json!({"name": c.name, "error": e.to_string()}));
                continue;
            }
        };
        let load_ms = t.elapsed().as_secs_f64() * 1e3;
        let (held, peak) = (LIVE.load(Relaxed) - live0, PEAK.load(Relaxed) - live0);
        let req = build(&c.principal, &c.path, c.port);
        let allowed = engine.evaluate(&req).allowed();
        let (decide_ns, decide_allocs) = measure(|| {
            black_box(engine.evaluate(black_box(&req)).allowed());
        });
        let (full_ns, full_allocs) = measure(|| {
            let req = build(black_box(&c.principal), black_box(&c.path), c.port);
            black_box(engine.evaluate(&req).allowed());
        });
        let (incoming_ns, incoming_allocs) = measure(|| {
            let hs = headers(black_box(&c));
            if let Ok(i) = incoming(engine.plan(), &hs, &mut Host(&c)) {
                black_box(engine.evaluate(&i.request).allowed());
            }
        });
        let line = serde_json::json!({
            "name": c.name, "allowed": allowed, "json_bytes": json.len(), "load_ms": load_ms,
            "engine_bytes": held, "load_peak_bytes": peak,
            "decide_ns": decide_ns, "decide_allocs": decide_allocs,
            "build_and_decide_ns": full_ns, "build_and_decide_allocs": full_allocs,
            "incoming_and_decide_ns": incoming_ns, "incoming_and_decide_allocs": incoming_allocs,
        });
        println!("BENCH {line}");
        drop(engine);
    }
}
