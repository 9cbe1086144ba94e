#![allow(dead_code)] // Each test binary uses a different part of the shared helpers.
pub mod cases;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod owners;
