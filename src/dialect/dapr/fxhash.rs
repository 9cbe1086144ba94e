//! A fast, unkeyed hash for the Dapr layer's tables (rustc's FxHash, with rustc-hash 2's final
//! rotation so the low bits hashbrown indexes by depend on every input bit).
//!
//! Safe here because every table is filled from the bundle alone: a request only probes, so
//! a client choosing colliding paths or caller ids cannot make a table degrade. SipHash, the
//! std default, costs several times more per probe on the short keys a decision hashes.

use std::hash::{BuildHasherDefault, Hasher};

/// The hasher state.
#[derive(Default, Clone, Copy)]
pub(super) struct Fx(u64);

/// A `HashMap`/`HashSet` hasher: `HashMap<K, V, FxBuild>`.
pub(super) type FxBuild = BuildHasherDefault<Fx>;

const K: u64 = 0xf135_7aea_2e62_a9c5;

impl Fx {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0 ^ w).wrapping_mul(K);
    }
}

impl Hasher for Fx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ (rest.len() as u64) << 59);
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn h<T: Hash>(t: T) -> u64 {
        FxBuild::default().hash_one(t)
    }

    #[test]
    fn distinguishes_what_it_should() {
        assert_ne!(h("/api"), h("/apj"));
        assert_ne!(h(("ab", "c")), h(("a", "bc")));
        assert_ne!(h((1u32, 2u32)), h((2u32, 1u32)));
        assert_eq!(h("/a/b"), h(String::from("/a/b")));
        // Bucket bits (the low ones) differ for consecutive ids.
        assert_ne!(h((7u32, 1u32)) & 0xff, h((7u32, 2u32)) & 0xff);
    }
}
