//! `spiffe-authz`: the engine of the filter, offline.
//!
//! Exit codes, for every command: 0 success (check: allowed; test: every case passed; diff: no
//! decision changed), 1 the negative answer (denied; a case failed; decisions changed), 2 an
//! error (unusable bundle or file, or a bad argument: clap exits 2 for those too).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// `println!` that never panics: when the reader has gone (`spiffe-authz check ... | head`), the
/// output is dropped and the exit code still tells the decision.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod authz;
mod bundle;
mod cases;
mod decide;
mod decide_text;
mod diff;
mod diff_text;
mod input;
mod junit;
mod manifests;
mod oci;
mod output;
mod principal;
mod probes;
mod push;
mod request_args;
mod spans;
mod test;
mod test_text;
mod wasmplugin;
mod wasmplugin_checks;
mod wasmplugin_object;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Service-to-service authorization by SPIFFE identity: the filter's engine, offline.
#[derive(Parser)]
#[command(name = "spiffe-authz", version, propagate_version = true)]
#[command(after_help = "Exit codes: 0 success, 1 the negative answer (denied, a test failed, \
                        decisions changed), 2 an error (bad bundle, file or argument).")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decide one request; exit 0 allowed, 1 denied, 2 error.
    Check(decide::CheckArgs),
    /// Every applicable policy and rule, whether and why it matched, and the decision.
    Explain(decide::ExplainArgs),
    /// Load a bundle as the filter would: errors and warnings point into the file.
    Validate(decide::ValidateArgs),
    /// Run request/expectation files (*.cases.json, *.cases.yaml) like `opa test`.
    Test(test::Args),
    /// The requests whose decision differs between two bundles, with the deciding rules.
    Diff(diff::Args),
    /// Kubernetes YAML manifests -> the bundle the filter loads.
    Bundle(bundle::Args),
    /// An Istio WasmPlugin carrying the bundle.
    Wasmplugin(wasmplugin::Args),
    /// The module as an OCI image layout (Wasm image specification, compat variant).
    Package(oci::Args),
    /// A new bundle for a running Envoy, by ECDS (temporary file + atomic rename).
    Push(push::Args),
    /// Per policy: requests allowed and denied, from Envoy's /stats/prometheus.
    Authz(authz::Args),
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Check(_) => "check",
            Command::Explain(_) => "explain",
            Command::Validate(_) => "validate",
            Command::Test(_) => "test",
            Command::Diff(_) => "diff",
            Command::Bundle(_) => "bundle",
            Command::Wasmplugin(_) => "wasmplugin",
            Command::Package(_) => "package",
            Command::Push(_) => "push",
            Command::Authz(_) => "authz",
        }
    }

    fn run(&self) -> Result<ExitCode, String> {
        match self {
            Command::Check(a) => decide::check(a),
            Command::Explain(a) => decide::explain(a),
            Command::Validate(a) => decide::validate(a),
            Command::Test(a) => test::run(a),
            Command::Diff(a) => diff::run(a),
            Command::Bundle(a) => bundle::run(a),
            Command::Wasmplugin(a) => wasmplugin::run(a),
            Command::Package(a) => oci::run(a),
            Command::Push(a) => push::run(a),
            Command::Authz(a) => authz::run(a),
        }
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    if let Some(e) = single_dash_long(&argv) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    // Unknown or misspelled arguments, missing values and bad values exit 2 here, with a
    // suggestion where clap has one; --help and --version exit 0.
    let cli = Cli::parse();
    match cli.command.run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("spiffe-authz {}: {e}", cli.command.name());
            ExitCode::from(2)
        }
    }
}

/// `-principal` for `--principal`: clap would read it as `-p -r -i ...` and say only that `-p`
/// is unknown. Combined short options (`-ojson`) are not long names and pass.
fn single_dash_long(argv: &[String]) -> Option<String> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let longs: Vec<String> = cmd
        .get_subcommands()
        .flat_map(|s| {
            s.get_arguments()
                .filter_map(|a| a.get_long().map(String::from))
                .collect::<Vec<_>>()
        })
        .collect();
    argv.iter().skip(1).take_while(|a| *a != "--").find_map(|a| {
        let name = a.strip_prefix('-').filter(|n| !n.starts_with('-'))?;
        let name = name.split('=').next().unwrap_or(name);
        (name.len() > 1 && longs.iter().any(|l| l == name))
            .then(|| format!("unexpected argument '{a}': long options take two dashes: --{name}"))
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn single_dash_long_options_are_named() {
        let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let e = super::single_dash_long(&argv("x check --bundle b -principal spiffe://a/b")).unwrap();
        assert!(e.contains("--principal"), "{e}");
        assert_eq!(super::single_dash_long(&argv("x check -b b -ojson")), None);
        assert_eq!(super::single_dash_long(&argv("x check -b b -- -principal")), None);
    }

    #[test]
    fn the_argument_definitions_are_consistent() {
        super::Cli::command().debug_assert();
    }
}
