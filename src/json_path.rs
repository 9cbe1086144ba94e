//! The field a JSON parse error is about, as `spec.rules[1].from[0].source.principals[2]`,
//! found from the error's position in the text.
//!
//! Bundles are parsed straight into the wire types with serde_json, which reports where an error
//! is (line and column) but not in which field. Tracking the field while parsing
//! (serde_path_to_error) wraps every wire type's deserializer in a second, path-tracking one: in
//! the .wasm that was a quarter of all code, which Envoy's V8 compiles with its optimizing
//! compiler for every Envoy as the module loads (issue 16: resident memory and start-up time per
//! Envoy). Only a failing parse needs the field, so it is found afterwards, by walking the text
//! up to the error's position; one walker serves every wire type.
//!
//! The path is the one serde_path_to_error gave: the value serde was reading when it failed
//! (`spec.action` for a bad action), an unknown key itself (`spec.rules[0].portt`), and for a
//! missing field the object that lacks it.

/// The path (`a.b[2].c`; empty for the whole text) of the value the error at `err`'s position
/// is about.
pub(crate) fn path_at(text: &str, err: &serde_json::Error) -> String {
    render(&frames_until(
        text.as_bytes(),
        offset_of(text, err.line(), err.column()),
    ))
}

/// The byte offset of serde_json's (1-based line, column = bytes into that line).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    (start + column).min(text.len())
}

/// One open object or array, outermost first.
#[derive(Debug, PartialEq)]
enum Frame {
    /// The last key read, and whether its `:` has been passed (the value's turn).
    Object { key: Option<String>, in_value: bool },
    /// The index of the current element, and whether that element has begun.
    Array { index: usize, begun: bool },
}

/// The open containers when the walk reaches `offset`: every token that starts before it is
/// taken.
fn frames_until(b: &[u8], offset: usize) -> Vec<Frame> {
    let mut frames: Vec<Frame> = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= offset || i >= b.len() {
            return frames;
        }
        match b[i] {
            b'{' | b'[' => {
                begin_value(&mut frames);
                frames.push(if b[i] == b'{' {
                    Frame::Object {
                        key: None,
                        in_value: false,
                    }
                } else {
                    Frame::Array { index: 0, begun: false }
                });
                i += 1;
            }
            b'}' | b']' => {
                frames.pop();
                i += 1;
            }
            b',' => {
                match frames.last_mut() {
                    Some(Frame::Object { key, in_value }) => (*key, *in_value) = (None, false),
                    Some(Frame::Array { index, begun }) => (*index, *begun) = (*index + 1, false),
                    None => {}
                }
                i += 1;
            }
            b':' => {
                if let Some(Frame::Object { in_value, .. }) = frames.last_mut() {
                    *in_value = true;
                }
                i += 1;
            }
            b'"' => {
                let (s, end) = string(b, i);
                match frames.last_mut() {
                    Some(Frame::Object { key, in_value: false }) => *key = Some(s),
                    _ => begin_value(&mut frames),
                }
                i = end;
            }
            _ => {
                begin_value(&mut frames);
                while i < b.len() && !matches!(b[i], b',' | b'}' | b']' | b':') && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
            }
        }
    }
}

fn begin_value(frames: &mut [Frame]) {
    if let Some(Frame::Array { begun, .. }) = frames.last_mut() {
        *begun = true;
    }
}

/// The string starting at `b[at] == '"'` (escapes decoded) and the offset after its closing quote.
fn string(b: &[u8], at: usize) -> (String, usize) {
    let mut out = Vec::new();
    let mut i = at + 1;
    while i < b.len() && b[i] != b'"' {
        if b[i] == b'\\' && i + 1 < b.len() {
            i += 1;
            match b[i] {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'u' => {
                    let hex = b.get(i + 1..i + 5).and_then(|h| std::str::from_utf8(h).ok());
                    let c = hex
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32);
                    out.extend_from_slice(c.unwrap_or(char::REPLACEMENT_CHARACTER).to_string().as_bytes());
                    i += 4;
                }
                c => out.push(c),
            }
        } else {
            out.push(b[i]);
        }
        i += 1;
    }
    (String::from_utf8_lossy(&out).into_owned(), (i + 1).min(b.len()))
}

/// `a.b[2].c`: every open container's current member (an object's last key, even before its
/// value: an unknown key names itself; an array's element once it has begun).
fn render(frames: &[Frame]) -> String {
    let mut out = String::new();
    for (n, f) in frames.iter().enumerate() {
        let last = n + 1 == frames.len();
        match f {
            Frame::Object { key: Some(k), .. } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Frame::Array { index, begun } if *begun || !last => out.push_str(&format!("[{index}]")),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests;
