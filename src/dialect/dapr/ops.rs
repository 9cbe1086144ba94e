//! Compiled operations. An operation list is compiled once however many apps list it
//! ([`OpSet`]); the operations' texts live in one arena ([`Texts`]), so an operation costs 20
//! bytes and no allocation of its own.

use super::action::VERBS;

/// A text in [`Texts`].
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Span {
    start: u32,
    len: u32,
}

/// Every operation name and action of a Configuration, end to end.
#[derive(Debug, Default)]
pub(super) struct Texts(String);

impl Texts {
    pub(super) fn push(&mut self, parts: &[&str]) -> Span {
        let start = self.0.len();
        parts.iter().for_each(|p| self.0.push_str(p));
        Span {
            start: start as u32,
            len: (self.0.len() - start) as u32,
        }
    }

    pub(super) fn get(&self, s: Span) -> &str {
        let start = s.start as usize;
        self.0.get(start..start + s.len as usize).unwrap_or_default()
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
}

/// One operation (`config.AccessControlListOperationAction`), its texts in [`Texts`].
#[derive(Debug)]
pub(super) struct Op {
    /// The name with the leading `/` Dapr adds.
    pub name: Span,
    /// The action: for gRPC, and for HTTP through each listed verb (Dapr stores the same
    /// action under every verb of the operation).
    pub action: Span,
    /// The verbs listed, bit `i` for [`VERBS`]`[i]`, bit 9 for `*`. Verbs are compared
    /// case-sensitively, so any other text never matches and is not kept.
    pub verbs: u16,
}

/// An operation as the layer reads it.
#[derive(Clone, Copy, Debug)]
pub(super) struct OpRef<'a> {
    pub name: &'a str,
    pub action: &'a str,
    verbs: u16,
}

impl<'a> OpRef<'a> {
    pub(super) fn new(op: &Op, texts: &'a Texts) -> OpRef<'a> {
        OpRef {
            name: texts.get(op.name),
            action: texts.get(op.action),
            verbs: op.verbs,
        }
    }

    /// Does `httpVerb` list `verb` (one of [`VERBS`], or `*`)?
    pub(super) fn lists(&self, verb: &str) -> bool {
        self.verbs & verb_bit(verb) != 0
    }
}

const STAR: u16 = 1 << VERBS.len();

/// The bit of a verb as written (`0` for a text Dapr never matches).
pub(super) fn verb_bit(verb: &str) -> u16 {
    if verb == "*" {
        return STAR;
    }
    VERBS.iter().position(|v| *v == verb).map_or(0, |i| 1 << i)
}

/// The compiled operations of one or more app policies.
#[derive(Debug)]
pub(super) struct OpSet {
    pub ops: Box<[Op]>,
    /// Root in the forest of the trie of lowercased names (HTTP)...
    pub http: u32,
    /// ... and of the names as written (gRPC): the same trie when lowercasing changes none.
    pub grpc: u32,
    /// Operations whose (lowercased) name repeats an earlier one: Dapr keeps the first.
    pub dups: Box<[u32]>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_are_matched_as_written() {
        let mut t = Texts::default();
        let op = Op {
            name: t.push(&["/", "op1"]),
            action: t.push(&["allow"]),
            verbs: verb_bit("GET") | verb_bit("get") | verb_bit("*"),
        };
        let r = OpRef::new(&op, &t);
        assert_eq!((r.name, r.action), ("/op1", "allow"));
        assert!(r.lists("GET") && r.lists("*"));
        assert!(!r.lists("POST") && !r.lists("get"));
    }
}
