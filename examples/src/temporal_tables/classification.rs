//! Reading the checked-in classification: one `SCOPE ACCESS PATH` line per method.

use super::GenerateError;

/// One classified method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classified {
    /// The full gRPC path, `/package.Service/Method`.
    pub path: String,
    /// The `Scope` variant name: `Cluster` or `Namespace`.
    pub scope: &'static str,
    /// The `Access` variant name: `Read`, `Write` or `Admin`.
    pub access: &'static str,
}

/// The classified methods, in the order of the text.
///
/// # Errors
/// A line that is not `SCOPE ACCESS PATH` with a known scope and access and a path of the
/// form `/package.Service/Method`, or a method listed twice.
pub fn parse_classification(text: &str) -> Result<Vec<Classified>, GenerateError> {
    let mut rows: Vec<Classified> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let syntax = |problem: String| GenerateError::Syntax {
            line: line_number,
            problem,
        };
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [scope, access, path] = fields[..] else {
            return Err(syntax(format!(
                "expected SCOPE ACCESS PATH, found {line:?}"
            )));
        };
        let scope = match scope {
            "cluster" => "Cluster",
            "namespace" => "Namespace",
            other => return Err(syntax(format!("unknown scope {other:?}"))),
        };
        let access = match access {
            "read" => "Read",
            "write" => "Write",
            "admin" => "Admin",
            other => return Err(syntax(format!("unknown access {other:?}"))),
        };
        if !is_method_path(path) {
            return Err(syntax(format!(
                "{path:?} is not a path /package.Service/Method"
            )));
        }
        if rows.iter().any(|row| row.path == path) {
            return Err(GenerateError::Duplicate {
                line: line_number,
                path: path.to_owned(),
            });
        }
        rows.push(Classified {
            path: path.to_owned(),
            scope,
            access,
        });
    }
    Ok(rows)
}

/// `/package.Service/Method`, with names made of the characters protobuf allows (so the path
/// can be written into a Rust string literal as it is).
fn is_method_path(path: &str) -> bool {
    let name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    };
    path.strip_prefix('/')
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(service, method)| name(service) && name(method) && !method.contains('.'))
}
