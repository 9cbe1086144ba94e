#![allow(dead_code)] // Each test binary uses a different part of the shared helpers.
pub mod cases;
pub mod owners;
