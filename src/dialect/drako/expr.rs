//! `decisionStrategy`: a boolean expression over policy names, parsed once at configure time.
//!
//! Drako's changelog (0.10.0): "Only allow boolean operators (i.e., ||, &&, !, !=, ==), boolean
//! constants (i.e., true or false), and policy names in the expression/decisionStrategy field."
//! Precedence, tightest first: `!`, then `==` / `!=`, then `&&`, then `||` (as in Rust, whose
//! rule against chaining comparisons we keep: `a == b == c` is refused, not guessed at).
//!
//! A parsed `Expr<String>` names policies; the layer resolves it once into an `Expr<u32>` whose
//! leaves index the layer's table of policy predicates, each stored once however many bindings
//! use it (substituting the predicates into every binding would copy a 10,000-entry ClientGroup
//! into each of 10,000 bindings).

use std::collections::BTreeSet;
use std::fmt;

/// A strategy whose leaves are policies named by `N` (a name, then an index).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Expr<N = String> {
    Const(bool),
    Name(N),
    Not(Box<Expr<N>>),
    And(Box<Expr<N>>, Box<Expr<N>>),
    Or(Box<Expr<N>>, Box<Expr<N>>),
    /// `a == b`: `(a ∧ b) ∨ (¬a ∧ ¬b)`.
    Eq(Box<Expr<N>>, Box<Expr<N>>),
    /// `a != b`: `(a ∧ ¬b) ∨ (¬a ∧ b)`.
    Ne(Box<Expr<N>>, Box<Expr<N>>),
}

/// A syntax error and the (1-based, in characters) column it was found at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ExprError {
    pub col: usize,
    pub msg: String,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.col, self.msg)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Or,
    And,
    Not,
    Eq,
    Ne,
    Open,
    Close,
    Name(String),
    End,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Or => f.write_str("`||`"),
            Tok::And => f.write_str("`&&`"),
            Tok::Not => f.write_str("`!`"),
            Tok::Eq => f.write_str("`==`"),
            Tok::Ne => f.write_str("`!=`"),
            Tok::Open => f.write_str("`(`"),
            Tok::Close => f.write_str("`)`"),
            Tok::Name(n) => write!(f, "`{n}`"),
            Tok::End => f.write_str("the end"),
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, ExprError> {
    let cs: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let col = i + 1;
        let c = cs[i];
        let next = cs.get(i + 1).copied();
        let (tok, len) = match (c, next) {
            (c, _) if c.is_whitespace() => {
                i += 1;
                continue;
            }
            ('|', Some('|')) => (Tok::Or, 2),
            ('&', Some('&')) => (Tok::And, 2),
            ('=', Some('=')) => (Tok::Eq, 2),
            ('!', Some('=')) => (Tok::Ne, 2),
            ('!', _) => (Tok::Not, 1),
            ('(', _) => (Tok::Open, 1),
            (')', _) => (Tok::Close, 1),
            ('|' | '&' | '=', _) => {
                return Err(ExprError {
                    col,
                    msg: format!("`{c}` is not an operator; did you mean `{c}{c}`?"),
                })
            }
            (c, _) if is_name_char(c) => {
                let n = cs[i..].iter().take_while(|c| is_name_char(**c)).count();
                (Tok::Name(cs[i..i + n].iter().collect()), n)
            }
            (c, _) => {
                return Err(ExprError {
                    col,
                    msg: format!("unexpected character {c:?}: only policy names, true, false, ||, &&, !, ==, != and parentheses are allowed"),
                })
            }
        };
        out.push((tok, col));
        i += len;
    }
    out.push((Tok::End, cs.len() + 1));
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> &(Tok, usize) {
        // lex always ends with Tok::End and the parser never steps past it.
        &self.toks[self.at.min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> (Tok, usize) {
        let t = self.peek().clone();
        if t.0 != Tok::End {
            self.at += 1;
        }
        t
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        let mut l = self.and()?;
        while self.peek().0 == Tok::Or {
            self.bump();
            l = Expr::Or(Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Expr, ExprError> {
        let mut l = self.cmp()?;
        while self.peek().0 == Tok::And {
            self.bump();
            l = Expr::And(Box::new(l), Box::new(self.cmp()?));
        }
        Ok(l)
    }

    fn cmp(&mut self) -> Result<Expr, ExprError> {
        let l = self.unary()?;
        let eq = match self.peek().0 {
            Tok::Eq => true,
            Tok::Ne => false,
            _ => return Ok(l),
        };
        self.bump();
        let r = self.unary()?;
        if let (t @ (Tok::Eq | Tok::Ne), col) = self.peek().clone() {
            return Err(ExprError {
                col,
                msg: format!("comparisons cannot be chained: add parentheses before {t}"),
            });
        }
        Ok(if eq {
            Expr::Eq(Box::new(l), Box::new(r))
        } else {
            Expr::Ne(Box::new(l), Box::new(r))
        })
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        let (t, col) = self.bump();
        match t {
            Tok::Not => Ok(Expr::Not(Box::new(self.unary()?))),
            Tok::Open => {
                let e = self.or()?;
                match self.bump() {
                    (Tok::Close, _) => Ok(e),
                    (t, c) => Err(ExprError {
                        col: c,
                        msg: format!("expected `)` to close the `(` at column {col}, found {t}"),
                    }),
                }
            }
            Tok::Name(n) if n == "true" => Ok(Expr::Const(true)),
            Tok::Name(n) if n == "false" => Ok(Expr::Const(false)),
            Tok::Name(n) => Ok(Expr::Name(n)),
            t => Err(ExprError {
                col,
                msg: format!("expected a policy name, true, false, `!` or `(`, found {t}"),
            }),
        }
    }
}

impl Expr {
    /// Parses a strategy; the error names the column.
    pub fn parse(src: &str) -> Result<Expr, ExprError> {
        if src.trim().is_empty() {
            return Err(ExprError {
                col: 1,
                msg: "is empty: it must name the policies that decide".into(),
            });
        }
        let mut p = Parser { toks: lex(src)?, at: 0 };
        let e = p.or()?;
        match p.bump() {
            (Tok::End, _) => Ok(e),
            (t, col) => Err(ExprError {
                col,
                msg: format!("expected an operator or the end, found {t}"),
            }),
        }
    }

    /// The policy names the expression uses.
    pub fn names(&self) -> BTreeSet<&str> {
        let mut out = BTreeSet::new();
        self.walk(&mut |n| {
            out.insert(n);
        });
        out
    }

    fn walk<'a>(&'a self, f: &mut impl FnMut(&'a str)) {
        match self {
            Expr::Const(_) => {}
            Expr::Name(n) => f(n),
            Expr::Not(e) => e.walk(f),
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Eq(a, b) | Expr::Ne(a, b) => {
                a.walk(f);
                b.walk(f)
            }
        }
    }
}

impl<N> Expr<N> {
    /// The same expression with every name replaced by `f(name)`.
    pub fn map<M>(&self, f: &impl Fn(&N) -> M) -> Expr<M> {
        let b = |e: &Expr<N>| Box::new(e.map(f));
        match self {
            Expr::Const(v) => Expr::Const(*v),
            Expr::Name(n) => Expr::Name(f(n)),
            Expr::Not(e) => Expr::Not(b(e)),
            Expr::And(x, y) => Expr::And(b(x), b(y)),
            Expr::Or(x, y) => Expr::Or(b(x), b(y)),
            Expr::Eq(x, y) => Expr::Eq(b(x), b(y)),
            Expr::Ne(x, y) => Expr::Ne(b(x), b(y)),
        }
    }

    /// The value, given each policy's value; `&&` and `||` short-circuit, so a policy is
    /// evaluated only when the result depends on it.
    pub fn eval(&self, v: &impl Fn(&N) -> bool) -> bool {
        match self {
            Expr::Const(b) => *b,
            Expr::Name(n) => v(n),
            Expr::Not(e) => !e.eval(v),
            Expr::And(a, b) => a.eval(v) && b.eval(v),
            Expr::Or(a, b) => a.eval(v) || b.eval(v),
            Expr::Eq(a, b) => a.eval(v) == b.eval(v),
            Expr::Ne(a, b) => a.eval(v) != b.eval(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(src: &str, trues: &[&str]) -> bool {
        Expr::parse(src)
            .unwrap()
            .eval(&|n: &String| trues.contains(&n.as_str()))
    }

    #[test]
    fn precedence_and_operators() {
        let cases: &[(&str, &[&str], bool)] = &[
            ("a", &["a"], true),
            ("a", &[], false),
            ("!a", &[], true),
            ("!!a", &["a"], true),
            ("a || b && c", &["a"], true),
            ("(a || b) && c", &["a"], false),
            ("a && b || c", &["c"], true),
            ("a == b", &[], true),
            ("a == b", &["a"], false),
            ("a != b", &["a"], true),
            ("a != b", &["a", "b"], false),
            ("!a == b", &[], false),
            ("a && b == c", &["a"], true),
            ("true", &[], true),
            ("false || a", &["a"], true),
            ("(is-owner || is-admin) && consent", &["is-admin", "consent"], true),
            ("(is-owner || is-admin) && consent", &["is-admin"], false),
            ("  a  &&\tb ", &["a", "b"], true),
            ("x.y_z-1", &["x.y_z-1"], true),
        ];
        for (src, trues, want) in cases {
            assert_eq!(val(src, trues), *want, "{src} with {trues:?}");
        }
    }

    #[test]
    fn names_exclude_constants() {
        let e = Expr::parse("(a || true) && !b == false").unwrap();
        assert_eq!(e.names().into_iter().collect::<Vec<_>>(), vec!["a", "b"]);
    }

    #[test]
    fn errors_point_at_the_column() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 1, "empty"),
            ("   ", 1, "empty"),
            ("a |", 3, "`||`"),
            ("a & b", 3, "`&&`"),
            ("a = b", 3, "`==`"),
            ("a && ", 6, "found the end"),
            ("(a || b", 8, "close the `(` at column 1"),
            ("a)", 2, "found `)`"),
            ("a b", 3, "found `b`"),
            ("a == b == c", 8, "chained"),
            ("a + b", 3, "unexpected character '+'"),
            ("&& a", 1, "found `&&`"),
            ("a || ()", 7, "found `)`"),
        ];
        for (src, col, msg) in cases {
            let e = Expr::parse(src).unwrap_err();
            assert_eq!(e.col, *col, "{src}: {e}");
            assert!(e.msg.contains(msg), "{src}: {e}");
        }
    }

    #[test]
    fn resolved_names_evaluate_alike() {
        let e = Expr::parse("(a == b) != !c").unwrap();
        let idx = e.map(&|n: &String| u32::from(n.as_bytes()[0] - b'a'));
        for bits in 0..8u32 {
            let by_name = e.eval(&|n: &String| bits & (1 << (n.as_bytes()[0] - b'a')) != 0);
            assert_eq!(idx.eval(&|i: &u32| bits & (1 << i) != 0), by_name, "bits {bits}");
        }
    }
}
