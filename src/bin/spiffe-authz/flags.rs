//! Flags of the commands that take files rather than a request (`bundle`, `wasmplugin`,
//! `package`, `push`): each flag is declared once with its aliases; values are collected in
//! order, so a repeatable flag is just one read with [`Flags::all`].

use std::collections::BTreeMap;

/// A declared flag: its names (`-f`, `--filename`) and whether it takes a value.
pub struct Spec {
    pub names: &'static [&'static str],
    pub value: bool,
}

/// Parsed flags, keyed by the first name of each [`Spec`].
#[derive(Debug, Default)]
pub struct Flags {
    values: BTreeMap<&'static str, Vec<String>>,
}

impl Flags {
    /// Parses `argv` against `specs`; unknown flags and positional arguments are errors.
    /// `--flag=value` is accepted as well as `--flag value`.
    pub fn parse(argv: &[String], specs: &[Spec]) -> Result<Flags, String> {
        let mut flags = Flags::default();
        let mut it = argv.iter();
        while let Some(arg) = it.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
                _ => (arg.as_str(), None),
            };
            let spec = specs
                .iter()
                .find(|s| s.names.contains(&name))
                .ok_or_else(|| format!("unknown argument {arg:?}"))?;
            let key: &'static str = spec.names.first().copied().unwrap_or("");
            let value = match (spec.value, inline) {
                (true, Some(v)) => v,
                (true, None) => it.next().cloned().ok_or_else(|| format!("{name} needs a value"))?,
                (false, None) => String::new(),
                (false, Some(_)) => return Err(format!("{name} takes no value")),
            };
            flags.values.entry(key).or_default().push(value);
        }
        Ok(flags)
    }

    /// Every value given for the flag, in order.
    pub fn all(&self, name: &str) -> &[String] {
        self.values.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The flag's value; an error if it was given more than once.
    pub fn one(&self, name: &str) -> Result<Option<&str>, String> {
        match self.all(name) {
            [] => Ok(None),
            [v] => Ok(Some(v)),
            _ => Err(format!("{name} may be given only once")),
        }
    }

    /// The flag's value, which must be given.
    pub fn required(&self, name: &str) -> Result<&str, String> {
        self.one(name)?.ok_or_else(|| format!("{name} is required"))
    }
}

/// `k=v` pairs (labels, selectors) into a map; an error names the flag and the bad value.
pub fn pairs(flag: &str, values: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for v in values {
        let (k, val) = v
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| format!("{flag} {v:?} is not key=value"))?;
        out.insert(k.to_string(), val.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[Spec] = &[
        Spec {
            names: &["-f", "--filename"],
            value: true,
        },
        Spec {
            names: &["--dry"],
            value: false,
        },
    ];

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn aliases_and_repeats_collect_in_order() {
        let f = Flags::parse(&argv("-f a.yaml --filename=b.yaml --dry"), SPECS).unwrap();
        assert_eq!(f.all("-f"), ["a.yaml", "b.yaml"]);
        assert_eq!(f.all("--dry"), [""]);
        assert!(f.one("-f").is_err());
    }

    #[test]
    fn unknown_and_missing_values_are_errors() {
        assert!(Flags::parse(&argv("--nope"), SPECS).is_err());
        assert!(Flags::parse(&argv("-f"), SPECS).is_err());
        assert!(Flags::parse(&argv("--dry=1"), SPECS).is_err());
    }

    #[test]
    fn pairs_need_a_key() {
        assert_eq!(pairs("--l", &["app=web".into()]).unwrap()["app"], "web");
        assert!(pairs("--l", &["=web".into()]).is_err());
        assert!(pairs("--l", &["web".into()]).is_err());
    }
}
