//! The Proxy-Wasm layer (wasm32-wasip1 only): the only code that names `proxy_wasm`.
//!
//! Thin by design: [`root`] turns the plugin configuration into an [`Engine`](crate::Engine)
//! once per configuration; [`http`] makes the host calls of one stream and enforces the
//! decision (what the engine sees is built by `request::incoming`, host-free); [`host`] wraps
//! every host read so that none can panic; [`metrics`] and [`policy_metrics`] name the
//! counters. All policy logic lives in the engine.

mod abi;
mod host;
mod http;
mod loaded;
mod metrics;
mod policy_metrics;
mod root;

use proxy_wasm::types::LogLevel;

/// The entry point Envoy calls when it loads the module. `proxy_wasm::main!` expands to a
/// `#[no_mangle]` export and an `unsafe` call of the WASI constructors, written by the SDK, hence
/// the `allow` (lib.rs forbids unsafe code everywhere else but here and in [`abi`]).
#[allow(unsafe_code)]
mod entry {
    use proxy_wasm::types::LogLevel;

    proxy_wasm::main! {{
        // No host calls here: Envoy refuses them during _initialize ("restricted_callback").
        // The real level is read from the host in on_vm_start / on_configure.
        proxy_wasm::set_log_level(LogLevel::Info);
        // After set_log_level, which installs the SDK's own hook (it unwraps the host's answer);
        // ours never panics inside the panic hook.
        std::panic::set_hook(Box::new(|info| {
            super::host::log(LogLevel::Critical, &format!("spiffe-authz panicked: {info}"));
        }));
        proxy_wasm::set_root_context(|_| Box::<super::root::Root>::default());
    }}
}

/// Routes the `log` crate through the host at the host's current wasm log level, so that lines
/// the host would drop (allowed requests at debug) are not even formatted.
fn set_log_level() {
    let level = proxy_wasm::hostcalls::get_log_level().unwrap_or(LogLevel::Info);
    proxy_wasm::set_log_level(level);
}
