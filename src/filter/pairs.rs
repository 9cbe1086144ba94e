//! Proxy-Wasm's "pairs" encoding, in which Envoy serializes a map-valued property (for example
//! `xds.node.metadata.LABELS`, a `google.protobuf.Struct` field) and header maps:
//!
//! ```text
//! u32 LE count, then count × (u32 LE key length, u32 LE value length),
//! then count × (key bytes, NUL, value bytes, NUL)
//! ```
//!
//! Pure code with no host calls, so it is unit-tested natively (lib.rs includes this file in
//! native test builds). Malformed input yields `None`, never a panic.

/// Decodes a pairs-encoded map. Keys and values that are not UTF-8 make the whole map `None`:
/// a label we cannot read must not silently become a different label.
pub(crate) fn decode(bytes: &[u8]) -> Option<Vec<(String, String)>> {
    let count = u32_at(bytes, 0)? as usize;
    let mut sizes_at = 4usize;
    let mut data_at = 4usize.checked_add(count.checked_mul(8)?)?;
    if data_at > bytes.len() {
        return None;
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let klen = u32_at(bytes, sizes_at)? as usize;
        let vlen = u32_at(bytes, sizes_at + 4)? as usize;
        sizes_at += 8;
        let key = take(bytes, &mut data_at, klen)?;
        let value = take(bytes, &mut data_at, vlen)?;
        out.push((key, value));
    }
    Some(out)
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

/// Takes `len` bytes at `*at` followed by a NUL terminator.
fn take(bytes: &[u8], at: &mut usize, len: usize) -> Option<String> {
    let end = at.checked_add(len)?;
    let s = std::str::from_utf8(bytes.get(*at..end)?).ok()?.to_string();
    if bytes.get(end) != Some(&0) {
        return None;
    }
    *at = end + 1;
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::decode;

    fn encode(pairs: &[(&str, &str)]) -> Vec<u8> {
        let mut out = (pairs.len() as u32).to_le_bytes().to_vec();
        for (k, v) in pairs {
            out.extend((k.len() as u32).to_le_bytes());
            out.extend((v.len() as u32).to_le_bytes());
        }
        for (k, v) in pairs {
            out.extend(k.as_bytes());
            out.push(0);
            out.extend(v.as_bytes());
            out.push(0);
        }
        out
    }

    #[test]
    fn decodes_what_envoy_encodes() {
        let m = [("app", "backend"), ("version", "v1"), ("empty", "")];
        let got = decode(&encode(&m)).unwrap();
        let want: Vec<(String, String)> = m.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn decodes_empty_map() {
        assert_eq!(decode(&encode(&[])).unwrap(), Vec::new());
    }

    #[test]
    fn refuses_truncated_or_unterminated_input() {
        let good = encode(&[("app", "backend")]);
        for cut in 0..good.len() {
            assert_eq!(decode(&good[..cut]), None, "cut at {cut}");
        }
        let mut no_nul = good.clone();
        let last = no_nul.len() - 1;
        no_nul[last] = b'x';
        assert_eq!(decode(&no_nul), None);
    }

    #[test]
    fn refuses_absurd_counts() {
        assert_eq!(decode(&u32::MAX.to_le_bytes()), None);
    }

    #[test]
    fn refuses_non_utf8() {
        let mut b = encode(&[("app", "x")]);
        let at = b.len() - 2;
        b[at] = 0xff;
        assert_eq!(decode(&b), None);
    }
}
