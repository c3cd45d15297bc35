//! `gen_temporal_tables`: writes the library's two generated Temporal tables,
//! `src/temporal/api_table.rs` and `src/temporal/namespace_fields.rs`, from the
//! `temporalio-protos` descriptors and `examples/src/temporal_tables/api_classification.txt`.
//!
//! ```text
//! cargo run -p tonic-authz-examples --bin gen_temporal_tables            # write the files
//! cargo run -p tonic-authz-examples --bin gen_temporal_tables -- --check # only compare
//! ```
//!
//! Run it after changing the classification or upgrading `temporalio-protos`; the test
//! `tests/temporal_tables.rs` fails until the checked-in files match.

use std::{fs, process::ExitCode};

use tonic_authz_examples::temporal_tables::{generate_official, workspace_root};

fn run(check: bool) -> Result<bool, Box<dyn std::error::Error>> {
    let tables = generate_official()?;
    let root = workspace_root();
    let mut up_to_date = true;
    for (path, text) in tables.files() {
        let file = root.join(path);
        let current = fs::read_to_string(&file).unwrap_or_default();
        if current == text {
            println!("{path}: up to date");
            continue;
        }
        up_to_date = false;
        if check {
            println!("{path}: differs from what the generator produces");
        } else {
            fs::write(&file, text).map_err(|e| format!("writing {}: {e}", file.display()))?;
            println!("{path}: written");
        }
    }
    Ok(up_to_date || !check)
}

fn main() -> ExitCode {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(other) => {
            eprintln!("unknown argument {other:?}; usage: gen_temporal_tables [--check]");
            return ExitCode::from(2);
        }
    };
    match run(check) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("gen_temporal_tables: {error}");
            ExitCode::FAILURE
        }
    }
}
