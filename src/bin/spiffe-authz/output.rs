//! `-o FORMAT` as in kubectl and istioctl: the format of what a command prints. The file it goes
//! to, where a command writes one, is a separate flag (`--output-file`).

use std::path::Path;

use serde::Serialize;

/// Formats for commands whose output is data (`check`, `bundle`, `wasmplugin`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Data {
    Json,
    Yaml,
}

/// Formats for commands whose output is a report meant for a person by default.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    Text,
    Json,
    Yaml,
}

impl Report {
    /// The data format, or `None` for text.
    pub fn data(self) -> Option<Data> {
        match self {
            Report::Text => None,
            Report::Json => Some(Data::Json),
            Report::Yaml => Some(Data::Yaml),
        }
    }
}

/// A value as JSON (pretty, with a final newline) or YAML.
pub fn render<T: Serialize>(value: &T, format: Data) -> Result<String, String> {
    match format {
        Data::Json => serde_json::to_string_pretty(value)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string()),
        Data::Yaml => serde_saphyr::to_string(value).map_err(|e| e.to_string()),
    }
}

/// Writes `text` to `file`, or to standard output without one (or with `-`).
pub fn emit(text: &str, file: Option<&Path>) -> Result<(), String> {
    match file {
        Some(path) if path != Path::new("-") => {
            std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
        }
        _ => {
            use std::io::Write as _;
            // A reader that went away (`| head`) is not an error: the exit code still tells.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_carry_the_same_value() {
        let v = serde_json::json!({"allowed": true, "rule": 0, "layers": ["istio"]});
        let json = render(&v, Data::Json).unwrap();
        let yaml = render(&v, Data::Yaml).unwrap();
        assert!(json.ends_with('\n'));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&json).unwrap(), v);
        assert_eq!(serde_saphyr::from_str::<serde_json::Value>(&yaml).unwrap(), v);
    }

    #[test]
    fn text_reports_have_no_data_format() {
        assert_eq!(Report::Text.data(), None);
        assert_eq!(Report::Yaml.data(), Some(Data::Yaml));
    }
}
