//! Proxy-Wasm's "pairs" encoding, in which Envoy serializes a map-valued property (the node's
//! `LABELS`, the JWT payload `jwt_authn` leaves in the stream's metadata):
//!
//! ```text
//! u32 LE count, then count × (u32 LE key length, u32 LE value length),
//! then count × (key bytes, NUL, value bytes, NUL)
//! ```
//!
//! The one decoder of it. Malformed input yields `None`, never a panic.

/// Splits `bytes` into (key, value) byte strings; `None` unless the whole input is exactly one
/// pairs encoding. Borrows: the filter decodes each request's header map in place with it.
pub(crate) fn decode(bytes: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let (count, rest) = bytes.split_first_chunk::<4>()?;
    let n = usize::try_from(u32::from_le_bytes(*count)).ok()?;
    // Each entry needs 8 bytes of sizes and 2 NULs: refuse absurd counts before allocating.
    if n.checked_mul(10)?.checked_add(4)? > bytes.len() {
        return None;
    }
    let (sizes, mut data) = rest.split_at_checked(n.checked_mul(8)?)?;
    let mut out = Vec::with_capacity(n);
    for size in sizes.chunks_exact(8) {
        let (klen, vlen) = size.split_first_chunk::<4>()?;
        let key = take(&mut data, u32::from_le_bytes(*klen))?;
        let value = take(&mut data, u32::from_le_bytes(vlen.try_into().ok()?))?;
        out.push((key, value));
    }
    data.is_empty().then_some(out)
}

/// [`decode`] into strings. A key or value that is not UTF-8 makes the whole map `None`: a
/// label we cannot read must not silently become a different label.
pub(crate) fn decode_strings(bytes: &[u8]) -> Option<Vec<(String, String)>> {
    let text = |b: &[u8]| std::str::from_utf8(b).ok().map(str::to_string);
    decode(bytes)?
        .into_iter()
        .map(|(k, v)| Some((text(k)?, text(v)?)))
        .collect()
}

/// Takes `len` bytes followed by a NUL terminator off the front of `data`.
fn take<'b>(data: &mut &'b [u8], len: u32) -> Option<&'b [u8]> {
    let (s, rest) = data.split_at_checked(usize::try_from(len).ok()?)?;
    let (&nul, rest) = rest.split_first()?;
    *data = rest;
    (nul == 0).then_some(s)
}

/// Encodes pairs as Envoy does: the filter's local-reply headers, and tests of what reads them.
#[cfg(any(test, all(target_arch = "wasm32", target_os = "wasi")))]
pub(crate) fn encode(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut out = (pairs.len() as u32).to_le_bytes().to_vec();
    for (k, v) in pairs {
        out.extend((k.len() as u32).to_le_bytes());
        out.extend((v.len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k);
        out.push(0);
        out.extend_from_slice(v);
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(pairs: &[(&str, &str)]) -> Vec<u8> {
        let bytes: Vec<(&[u8], &[u8])> = pairs.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())).collect();
        encode(&bytes)
    }

    #[test]
    fn decodes_what_envoy_encodes() {
        let m = [("app", "backend"), ("version", "v1"), ("empty", "")];
        let got = decode_strings(&enc(&m)).unwrap();
        let want: Vec<(String, String)> = m.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn decodes_empty_map() {
        assert_eq!(decode_strings(&enc(&[])).unwrap(), Vec::new());
    }

    #[test]
    fn refuses_truncated_or_unterminated_input() {
        let good = enc(&[("app", "backend")]);
        for cut in 0..good.len() {
            assert_eq!(decode(&good[..cut]), None, "cut at {cut}");
        }
        let mut no_nul = good.clone();
        let last = no_nul.len() - 1;
        no_nul[last] = b'x';
        assert_eq!(decode(&no_nul), None);
        let mut trailing = good;
        trailing.push(0);
        assert_eq!(decode(&trailing), None);
    }

    #[test]
    fn empty_keys_and_values_fill_the_input_exactly() {
        // 4 + 10 bytes per entry: the smallest input for its count, accepted.
        let b = enc(&[("", ""), ("", "")]);
        assert_eq!(b.len(), 24);
        assert_eq!(decode(&b), Some(vec![(&b""[..], &b""[..]), (&b""[..], &b""[..])]));
        let b = enc(&[("a", ""), ("", "bc")]);
        assert_eq!(decode(&b), Some(vec![(&b"a"[..], &b""[..]), (&b""[..], &b"bc"[..])]));
    }

    #[test]
    fn refuses_absurd_counts() {
        assert_eq!(decode(&u32::MAX.to_le_bytes()), None);
        assert_eq!(decode(&[1, 0, 0, 0, 200, 0, 0, 0]), None);
    }

    #[test]
    fn refuses_non_utf8() {
        let mut b = enc(&[("app", "x")]);
        let at = b.len() - 2;
        b[at] = 0xff;
        assert_eq!(decode_strings(&b), None);
        assert!(decode(&b).is_some(), "the bytes themselves are well formed");
    }
}
