//! `spiffe-authz test [PATH]...`: runs request/expectation files (cases.rs) against their
//! bundles, like `opa test`: every case decided by the engine, a readable difference for each
//! mismatch, exit 1 if any case fails (2 if a file cannot be used), and a report for CI
//! (`-o json`, `-o junit`, `--output-file`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use crate::cases::{self, Case, CaseFile, Got, Mismatch};
use crate::input;
use crate::output::{self, Data};
use crate::spans::{self, Pos};

#[derive(clap::Args)]
pub struct Args {
    /// Case files, or directories searched for *.cases.json, *.cases.yaml, *.cases.yml
    /// [default: .].
    pub paths: Vec<PathBuf>,
    /// Report format.
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    pub output: Format,
    /// Write the report to FILE (the text summary still goes to standard output).
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Run only the cases whose name contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub run: Option<String>,
    /// List passing cases too.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Yaml,
    Junit,
}

/// One case file's results.
#[derive(Serialize)]
pub struct FileReport {
    pub file: String,
    pub bundle: Option<String>,
    /// Why the file could not be run (unreadable, invalid, its bundle refused).
    pub error: Option<String>,
    pub cases: Vec<CaseReport>,
}

#[derive(Serialize)]
pub struct CaseReport {
    pub name: String,
    /// `file:line:column` of the case.
    pub location: String,
    pub passed: bool,
    pub request: Case,
    pub got: Got,
    pub mismatches: Vec<Mismatch>,
}

#[derive(Serialize, Default)]
pub struct Summary {
    pub files: usize,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
}

#[derive(Serialize)]
pub struct Report {
    pub summary: Summary,
    pub files: Vec<FileReport>,
}

pub fn run(a: &Args) -> Result<ExitCode, String> {
    let roots = if a.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        a.paths.clone()
    };
    let mut files = Vec::new();
    for r in &roots {
        collect(r, &mut files)?;
    }
    if files.is_empty() {
        return Err(format!(
            "no *.cases.json, *.cases.yaml or *.cases.yml under {}",
            roots
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let reports: Vec<FileReport> = files.iter().map(|f| run_file(f, a.run.as_deref())).collect();
    let report = Report {
        summary: summarize(&reports),
        files: reports,
    };
    let text = crate::test_text::render(&report, a.verbose);
    let machine = match a.output {
        Format::Text => None,
        Format::Json => Some(output::render(&report, Data::Json)?),
        Format::Yaml => Some(output::render(&report, Data::Yaml)?),
        Format::Junit => Some(crate::junit::render(&report)),
    };
    match (machine, &a.output_file) {
        (None, file) => output::emit(&text, file.as_deref())?,
        (Some(m), None) => output::emit(&m, None)?,
        (Some(m), Some(file)) => {
            output::emit(&m, Some(file))?;
            output::emit(&text, None)?;
        }
    }
    let s = &report.summary;
    Ok(ExitCode::from(if s.errors > 0 {
        2
    } else if s.failed > 0 {
        1
    } else {
        0
    }))
}

fn summarize(reports: &[FileReport]) -> Summary {
    let mut s = Summary {
        files: reports.len(),
        ..Summary::default()
    };
    for r in reports {
        s.errors += usize::from(r.error.is_some());
        for c in &r.cases {
            if c.passed {
                s.passed += 1;
            } else {
                s.failed += 1;
            }
        }
    }
    s
}

fn is_case_file(p: &Path) -> bool {
    let n = p
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    [".cases.json", ".cases.yaml", ".cases.yml"]
        .iter()
        .any(|s| n.ends_with(s))
}

/// A file as given, or every case file under a directory (sorted, recursively).
fn collect(p: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    if !p.is_dir() {
        if !p.exists() {
            return Err(format!("{}: no such file or directory", p.display()));
        }
        out.push(p.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
        .map_err(|e| format!("{}: {e}", p.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            collect(&e, out)?;
        } else if is_case_file(&e) {
            out.push(e);
        }
    }
    Ok(())
}

fn run_file(path: &Path, filter: Option<&str>) -> FileReport {
    let file = path.display().to_string();
    let mut report = FileReport {
        file: file.clone(),
        bundle: None,
        error: None,
        cases: Vec::new(),
    };
    let loaded = load(path).and_then(|(cf, spans)| {
        let bundle = bundle_path(path, cf.bundle.as_deref())?;
        report.bundle = Some(bundle.clone());
        let engine = input::read_bundle(&bundle)?.compile()?;
        Ok((cf, spans, engine))
    });
    let (cf, spans, engine) = match loaded {
        Ok(l) => l,
        Err(e) => {
            report.error = Some(e);
            return report;
        }
    };
    for (i, case) in cf.cases.into_iter().enumerate() {
        if filter.is_some_and(|f| !case.name.contains(f)) {
            continue;
        }
        let (got, mismatches) = cases::check(&engine, &case);
        report.cases.push(CaseReport {
            name: case.name.clone(),
            location: input::location(&file, spans.find(&format!("cases[{i}]"))),
            passed: mismatches.is_empty(),
            request: case,
            got,
            mismatches,
        });
    }
    report
}

/// The case file, parsed, with positions; an error points at the field.
fn load(path: &Path) -> Result<(CaseFile, spans::Spans), String> {
    let name = path.display().to_string();
    let (_, text) = input::read_input(&name)?;
    let (value, spans) = spans::parse(&text).map_err(|e| format!("{name}: {e}"))?;
    match serde_path_to_error::deserialize(value) {
        Ok(cf) => Ok((cf, spans)),
        Err(e) => {
            let field = e.path().to_string();
            let pos: Option<Pos> = input::field_position(&spans, &field, &e.inner().to_string());
            Err(input::at(&name, pos, &format!("{field}: {}", e.inner())))
        }
    }
}

/// The bundle a case file names: relative to the case file, else to the current directory
/// (the repository's fixtures name theirs from the root); without one, the bundle beside it.
fn bundle_path(cases: &Path, named: Option<&str>) -> Result<String, String> {
    let dir = cases.parent().unwrap_or(Path::new("."));
    let candidates: Vec<PathBuf> = match named {
        Some("-") => return Ok("-".into()),
        Some(b) => vec![dir.join(b), PathBuf::from(b)],
        None => {
            let n = cases
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let stem = [".cases.json", ".cases.yaml", ".cases.yml"]
                .iter()
                .find_map(|s| n.strip_suffix(s))
                .unwrap_or(&n)
                .to_string();
            ["json", "yaml", "yml"]
                .iter()
                .map(|e| dir.join(format!("{stem}.{e}")))
                .collect()
        }
    };
    candidates
        .iter()
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
        .ok_or_else(|| {
            format!(
                "{}: bundle not found (looked for {})",
                cases.display(),
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}
