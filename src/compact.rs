//! The compact form of a bundle, for bundles too large to travel as they are (a WasmPlugin's
//! `pluginConfig` is inside a Kubernetes object: 256 KiB with client-side `kubectl apply`,
//! 1.5 MiB at most):
//!
//! ```json
//! {"encoding": "gzip+base64", "data": "H4sIAAAAAAACA6tWKkotzi8tSk4tVrJSiI6tBQBxKjFuEQAAAA=="}
//! ```
//!
//! `data` is the bundle JSON, gzip-compressed (RFC 1952, one member) and base64-encoded (RFC 4648,
//! standard alphabet; padding and whitespace optional): what `gzip -c bundle.json | base64 -w0`
//! prints, and what `spiffe-authz bundle --compress` and `wasmplugin` write. The filter expands it
//! before parsing, and refuses a form that would expand beyond [`MAX_EXPANDED`] bytes, so a
//! "zip bomb" is an error naming the limit, not a VM out of memory.

use std::borrow::Cow;

use serde::Deserialize;

use crate::error::BundleError;

/// The one encoding.
pub const ENCODING: &str = "gzip+base64";

/// The largest bundle a compact form may expand to: 32 MiB, nine times the 100,000-principal,
/// 10,000-path benchmark bundle (3.6 MiB, which peaks at 12.8 MiB of VM memory once compiled).
pub const MAX_EXPANDED: usize = 32 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    #[serde(borrow)]
    encoding: Cow<'a, str>,
    #[serde(borrow)]
    data: Cow<'a, str>,
}

/// The bundle JSON a plugin configuration holds: the configuration itself, or what its compact
/// form expands to.
///
/// Costs nothing for a plain bundle: its first key is not one of the envelope's, so the
/// envelope's parse stops there.
pub fn expand(config: &str) -> Result<Cow<'_, str>, BundleError> {
    let Ok(env) = serde_json::from_str::<Envelope<'_>>(config) else {
        return Ok(Cow::Borrowed(config));
    };
    let err = |field: &str, message: String| BundleError::Envelope {
        field: field.into(),
        message,
    };
    if env.encoding != ENCODING {
        return Err(err("encoding", format!("{:?} is not {ENCODING:?}", env.encoding)));
    }
    let gz = base64_decode(&env.data).map_err(|m| err("data", format!("not base64: {m}")))?;
    let json =
        gunzip(&gz, MAX_EXPANDED).map_err(|m| err("data", format!("not a gzip stream this filter reads: {m}")))?;
    String::from_utf8(json)
        .map(Cow::Owned)
        .map_err(|e| err("data", format!("expands to text that is not UTF-8: {e}")))
}

/// The compact form of a bundle (JSON text): gzip at the best compression, then base64.
pub fn compress(bundle_json: &str) -> String {
    let data = base64_encode(&gzip(bundle_json.as_bytes()));
    format!("{{\"encoding\": \"{ENCODING}\", \"data\": \"{data}\"}}")
}

const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 8];
const FHCRC: u8 = 2;
const FEXTRA: u8 = 4;
const FNAME: u8 = 8;
const FCOMMENT: u8 = 16;

/// One gzip member: header, deflate stream, CRC-32 and length of the data.
fn gzip(data: &[u8]) -> Vec<u8> {
    // No name, no time (so the same bundle gives the same bytes), "unknown" OS.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255];
    out.extend(miniz_oxide::deflate::compress_to_vec(data, 9));
    out.extend(crc32(data).to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out
}

/// The data of a single-member gzip stream, at most `limit` bytes of it.
fn gunzip(gz: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let at = |i: usize| gz.get(i).copied().ok_or("truncated header");
    if gz.get(..3) != Some(&GZIP_MAGIC[..]) {
        return Err("it does not start with gzip's magic number and the deflate method".into());
    }
    let flags = at(3)?;
    if flags & 0xe0 != 0 {
        return Err("reserved header flags are set".into());
    }
    let mut pos = 10;
    if flags & FEXTRA != 0 {
        pos += 2 + usize::from(u16::from_le_bytes([at(pos)?, at(pos + 1)?]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let end = gz
                .get(pos..)
                .and_then(|r| r.iter().position(|&b| b == 0))
                .ok_or("truncated header")?;
            pos += end + 1;
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    let body_end = gz.len().checked_sub(8).filter(|&e| e >= pos).ok_or("truncated")?;
    let (Some(body), Some(&[c0, c1, c2, c3, s0, s1, s2, s3])) = (gz.get(pos..body_end), gz.get(body_end..)) else {
        return Err("truncated".into());
    };
    let (crc, size) = (
        u32::from_le_bytes([c0, c1, c2, c3]),
        u32::from_le_bytes([s0, s1, s2, s3]),
    );
    if size as usize > limit {
        return Err(too_large(limit));
    }
    let data = miniz_oxide::inflate::decompress_to_vec_with_limit(body, limit).map_err(|e| {
        if e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput {
            too_large(limit)
        } else {
            e.to_string()
        }
    })?;
    if data.len() as u32 != size || crc32(&data) != crc {
        return Err("its length or CRC-32 does not match (corrupt, or several gzip members)".into());
    }
    Ok(data)
}

fn too_large(limit: usize) -> String {
    format!("it expands to more than {limit} bytes, the largest bundle the filter accepts")
}

/// CRC-32 (IEEE 802.3, reflected), as gzip's trailer carries it.
fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    !data
        .iter()
        .fold(!0u32, |c, &b| TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8))
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = byte(0) << 16 | byte(1) << 8 | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits, mut padding) = (0u32, 0u32, 0usize);
    for (i, c) in text.bytes().enumerate() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return Err(format!("character {:?} at offset {i}", char::from(c))),
        };
        if padding > 0 {
            return Err(format!("data after the '=' padding at offset {i}"));
        }
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits >= 6 || padding > 2 {
        return Err("its length is not that of base64".into());
    }
    Ok(out)
}

#[cfg(test)]
#[path = "compact_tests.rs"]
mod tests;
