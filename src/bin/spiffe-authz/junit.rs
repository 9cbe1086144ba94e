//! `test -o junit`: the JUnit XML that CI systems (GitLab, Jenkins, GitHub test reporters) read:
//! one `<testsuite>` per case file, one `<testcase>` per case, `<failure>` with the differences,
//! `<error>` for a file that could not be run.

use std::fmt::Write;

use crate::test::Report;

pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        "<testsuites name=\"spiffe-authz test\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
        s.passed + s.failed + s.errors,
        s.failed,
        s.errors
    );
    for f in &report.files {
        let failures = f.cases.iter().filter(|c| !c.passed).count();
        let tests = f.cases.len() + usize::from(f.error.is_some());
        let _ = writeln!(
            o,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{}\">",
            esc(&f.file),
            usize::from(f.error.is_some())
        );
        if let Some(e) = &f.error {
            let _ = writeln!(
                o,
                "    <testcase name=\"(load)\" classname=\"{}\"><error message=\"{}\"/></testcase>",
                esc(&f.file),
                esc(e)
            );
        }
        for c in &f.cases {
            let _ = write!(
                o,
                "    <testcase name=\"{}\" classname=\"{}\"",
                esc(&c.name),
                esc(&f.file)
            );
            if c.passed {
                o.push_str("/>\n");
                continue;
            }
            let body: String = c
                .mismatches
                .iter()
                .map(|m| format!("{}: expected {}, got {}\n", m.field, m.expected, m.got))
                .collect();
            let _ = writeln!(
                o,
                ">\n      <failure message=\"{}\">{}: {}</failure>\n    </testcase>",
                esc(body.lines().next().unwrap_or("")),
                esc(&c.location),
                esc(&body)
            );
        }
        o.push_str("  </testsuite>\n");
    }
    o.push_str("</testsuites>\n");
    o
}

/// XML text and attribute escaping; characters XML 1.0 cannot carry become U+FFFD.
fn esc(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&apos;".into(),
            '\n' => "&#10;".into(),
            c if (c as u32) < 0x20 && c != '\t' && c != '\r' => "\u{FFFD}".into(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escaping_keeps_the_xml_well_formed() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(esc("x\u{1}y"), "x\u{FFFD}y");
    }
}
