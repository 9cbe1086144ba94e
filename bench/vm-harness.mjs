// A minimal Proxy-Wasm host in Node (V8, the engine Envoy embeds): loads a filter module, feeds
// it a bundle and a stream of identical requests, and reports the time spent inside the VM per
// request and the host calls the module makes per request. It separates the module's own cost
// from Envoy's side of each call (which the Envoy benchmark measures together).
//
//   node bench/vm-harness.mjs MODULE.wasm BUNDLE.json PRINCIPAL PATH [SECONDS]
//
// Prints one JSON line: {ns_per_request, host_calls_per_request: {name: n}, configure_ms, ...}.
import { readFileSync } from "node:fs";

const [wasmPath, bundlePath, principal, path, seconds = "2"] = process.argv.slice(2);
const bundle = bundlePath === "-" ? new Uint8Array() : readFileSync(bundlePath);
const enc = new TextEncoder();
const dec = new TextDecoder();
// What the server's filter sees in the Envoy benchmark: the pseudo-headers, the load generator's
// headers (bench/request-headers.txt) and the ones the client Envoy adds: 22 headers.
const generated = readFileSync(new URL("request-headers.txt", import.meta.url), "utf8").split("\n")
  .filter((l) => l && !l.startsWith("#")).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]);
const headers = [
  [":authority", "127.0.0.1:10000"], [":path", path], [":method", "GET"], [":scheme", "https"], ...generated,
  ["x-forwarded-proto", "https"], ["x-request-id", "5d0c8f1e-2b59-4f0b-9a0e-3c1d2e4f5a6b"],
  ["x-envoy-expected-rq-timeout-ms", "60000"],
];
const props = {
  "connection\0uri_san_peer_certificate": enc.encode(principal),
  "source\0address": enc.encode("127.0.0.1:40000"),
  "destination\0address": enc.encode("127.0.0.1:10000"),
  "destination\0port": new Uint8Array(new BigUint64Array([10000n]).buffer),
  "connection\0requested_server_name": enc.encode("localhost"),
};

let mem, ex;
const calls = {};
const logs = [];
const count = (n) => { calls[n] = (calls[n] || 0) + 1; };
const u8 = () => new Uint8Array(mem.buffer);
const dv = () => new DataView(mem.buffer);
const str = (p, n) => dec.decode(u8().subarray(p, p + n));
// Hands bytes to the module the way a host does: the module allocates, the host copies.
function give(bytes, retPtr, retSize) {
  const p = ex.proxy_on_memory_allocate(bytes.length);
  u8().set(bytes, p);
  dv().setUint32(retPtr, p, true);
  dv().setUint32(retSize, bytes.length, true);
  return 0;
}
function pairs(list) {
  const parts = list.map(([k, v]) => [enc.encode(k), enc.encode(v)]);
  let size = 4 + parts.length * 8;
  for (const [k, v] of parts) size += k.length + v.length + 2;
  const out = new Uint8Array(size);
  const d = new DataView(out.buffer);
  d.setUint32(0, parts.length, true);
  let at = 4;
  for (const [k, v] of parts) { d.setUint32(at, k.length, true); d.setUint32(at + 4, v.length, true); at += 8; }
  for (const [k, v] of parts) { out.set(k, at); at += k.length + 1; out.set(v, at); at += v.length + 1; }
  return out;
}
const headerBytes = pairs(headers);

const env = new Proxy({}, {
  get: (_, name) => {
    switch (name) {
      case "proxy_get_buffer_bytes": return (t, start, max, rp, rs) => { count(name); return give(bundle.subarray(start, start + max), rp, rs); };
      case "proxy_get_property": return (pp, ps, rp, rs) => {
        count(name);
        const v = props[str(pp, ps).replace(/\0$/, "")];
        return v ? give(v, rp, rs) : 1; // NotFound
      };
      case "proxy_get_header_map_pairs": return (t, rp, rs) => { count(name); return give(headerBytes, rp, rs); };
      case "proxy_get_header_map_value": return (t, kp, ks, rp, rs) => {
        count(name);
        const h = headers.find(([k]) => k === str(kp, ks));
        return h ? give(enc.encode(h[1]), rp, rs) : 1;
      };
      case "proxy_define_metric": return (t, np, ns, rp) => { count(name); dv().setUint32(rp, 1 + Object.keys(calls).length, true); return 0; };
      case "proxy_get_log_level": return (rp) => { count(name); dv().setUint32(rp, 2, true); return 0; };
      case "proxy_get_current_time_nanoseconds": return (rp) => { count(name); dv().setBigUint64(rp, process.hrtime.bigint(), true); return 0; };
      case "proxy_log": return (l, p, n) => { count(name); logs.push(str(p, n)); return 0; };
      default: return (...a) => { count(name); return 0; };
    }
  },
});
const wasi = {
  random_get: (p, n) => { u8().fill(7, p, p + n); return 0; },
  environ_sizes_get: (a, b) => { dv().setUint32(a, 0, true); dv().setUint32(b, 0, true); return 0; },
  environ_get: () => 0,
  fd_write: () => 0,
  proc_exit: (c) => { throw new Error(`proc_exit(${c})`); },
};
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), { env, wasi_snapshot_preview1: wasi });
ex = instance.exports;
mem = ex.memory;
ex._initialize?.();
ex.proxy_on_context_create(1, 0);
ex.proxy_on_vm_start(1, 0);
const t0 = process.hrtime.bigint();
const ok = ex.proxy_on_configure(1, bundle.length);
const configureMs = Number(process.hrtime.bigint() - t0) / 1e6;
if (!ok) { console.error(logs.join("\n")); process.exit(1); }

let ctx = 2;
function request() {
  ex.proxy_on_context_create(ctx, 1);
  const a = ex.proxy_on_request_headers(ctx, headers.length, 1);
  ex.proxy_on_response_headers(ctx, 2, 1);
  ex.proxy_on_log(ctx);
  ex.proxy_on_done(ctx);
  ex.proxy_on_delete(ctx);
  // The root's tick (Envoy: once a second) hands pending counts to the host.
  if (ctx % 10000 === 0) ex.proxy_on_tick(1);
  ctx++;
  return a;
}
// Warm up until V8 has optimized the hot code, then count one request's host calls.
for (let i = 0; i < 20000; i++) request();
for (const k of Object.keys(calls)) delete calls[k];
const action = request();
const perRequest = { ...calls };
const sent = calls.proxy_send_local_response || 0;
let n = 0;
const deadline = process.hrtime.bigint() + BigInt(Math.round(Number(seconds) * 1e9));
const start = process.hrtime.bigint();
// VM_HARNESS_COUNT=N: exactly N requests instead of a timed loop, for an instruction count that
// does not depend on the machine's load (bench/callgrind-ab.sh runs two counts under callgrind
// and takes the difference: instructions per request, V8's compilation cancelled out).
const fixed = Number(process.env.VM_HARNESS_COUNT || 0);
if (fixed > 0) { for (; n < fixed; n++) request(); }
else while (process.hrtime.bigint() < deadline) { for (let i = 0; i < 1000; i++) request(); n += 1000; }
const ns = Number(process.hrtime.bigint() - start) / n;
console.log(JSON.stringify({
  module: wasmPath, bundle: bundlePath, ns_per_request: ns, action: action === 0 ? "continue" : "pause",
  denied: sent > 0, host_calls_per_request: perRequest, configure_ms: configureMs,
  memory_bytes: mem.buffer.byteLength, log: logs.filter((l) => l.includes("bundle loaded")).slice(-1)[0],
}));
