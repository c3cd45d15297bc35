//! The README's quick start is the code of `src/bin/quickstart.rs` (which CI builds): the
//! README's first `rust` block under "Quick start" must be the file's `README: begin` /
//! `README: end` regions, dedented, in order.

use std::path::Path;

fn quick_start_block(readme: &str) -> String {
    let section = readme
        .split("## Quick start")
        .nth(1)
        .expect("a Quick start section");
    let block = section
        .split("```rust\n")
        .nth(1)
        .expect("a rust block")
        .split("```")
        .next()
        .expect("a closed block");
    block.to_owned()
}

fn marked_regions(source: &str) -> String {
    let mut out = String::new();
    let mut inside: Option<usize> = None;
    for line in source.lines() {
        let trimmed = line.trim_start();
        match (trimmed, inside) {
            ("// README: begin", None) => inside = Some(line.len() - trimmed.len()),
            ("// README: end", Some(_)) => inside = None,
            (_, Some(indent)) => {
                out.push_str(line.get(indent..).unwrap_or(""));
                out.push('\n');
            }
            _ => {}
        }
    }
    assert!(inside.is_none(), "an unterminated README region");
    out
}

#[test]
fn the_readme_quick_start_is_the_compiled_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("../README.md")).expect("README");
    let source = std::fs::read_to_string(root.join("src/bin/quickstart.rs")).expect("source");
    let regions = marked_regions(&source);
    assert!(regions.contains("AuthzLayer::builder()"), "{regions}");
    assert_eq!(quick_start_block(&readme), regions);
}
