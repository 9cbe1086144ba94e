//! The Proxy-Wasm layer (wasm32-wasip1 only): the only code that names `proxy_wasm`.
