//! The library's generated Temporal tables (`src/temporal/api_table.rs`,
//! `src/temporal/namespace_fields.rs`) are exactly what the generator makes from the official
//! descriptors and the checked-in classification, and the generator refuses a Temporal method
//! nobody classified.

use std::fs;

use tonic_authz_examples::TEMPORAL_DESCRIPTOR_SET;
use tonic_authz_examples::temporal_tables::{
    CLASSIFICATION, GenerateError, REGENERATE_COMMAND, generate, generate_official,
    parse_classification, workspace_root,
};

/// The classification with the line for `path` taken out.
fn without(path: &str) -> String {
    let text: String = CLASSIFICATION
        .lines()
        .filter(|line| !line.ends_with(path))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_ne!(text.len(), CLASSIFICATION.len(), "{path} was classified");
    text
}

#[test]
fn the_checked_in_tables_are_the_generated_ones() {
    let tables = generate_official().expect("the tables generate");
    for (path, generated) in tables.files() {
        let checked_in = fs::read_to_string(workspace_root().join(path))
            .unwrap_or_else(|e| panic!("reading {path}: {e}"));
        if checked_in != generated {
            let line = checked_in
                .lines()
                .zip(generated.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| checked_in.lines().count().min(generated.lines().count()));
            panic!(
                "{path} is not what the generator makes (first difference at line {}); \
                 regenerate it with `{REGENERATE_COMMAND}`",
                line + 1
            );
        }
    }
}

#[test]
fn the_tables_have_one_row_per_line() {
    let tables = generate_official().expect("the tables generate");
    assert!(tables.api_table.contains(
        "\n    (\"/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution\", \
         Scope::Namespace, Access::Write),\n"
    ));
    assert!(tables.namespace_fields.contains(
        "\n    (\"/temporal.api.workflowservice.v1.WorkflowService/RespondWorkflowTaskCompleted\", 9),\n"
    ));
    for text in [&tables.api_table, &tables.namespace_fields] {
        assert!(text.contains("#[rustfmt::skip]\n"));
    }
}

#[test]
fn an_unclassified_workflow_service_method_fails() {
    let path = "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";
    match generate(TEMPORAL_DESCRIPTOR_SET, &without(path)) {
        Err(GenerateError::Unclassified(paths)) => assert_eq!(paths, [path]),
        other => panic!("expected an unclassified method, got {other:?}"),
    }
}

#[test]
fn an_unclassified_operator_service_method_fails() {
    let path = "/temporal.api.operatorservice.v1.OperatorService/ListClusters";
    let error = generate(TEMPORAL_DESCRIPTOR_SET, &without(path)).expect_err("must fail");
    assert!(matches!(&error, GenerateError::Unclassified(paths) if paths == &[path]));
    assert!(error.to_string().contains(path), "{error}");
}

#[test]
fn a_classified_method_the_descriptors_lack_fails() {
    let path = "/temporal.api.workflowservice.v1.WorkflowService/NoSuchMethod";
    let text = format!("{CLASSIFICATION}namespace write {path}\n");
    match generate(TEMPORAL_DESCRIPTOR_SET, &text) {
        Err(GenerateError::NotInDescriptors(paths)) => assert_eq!(paths, [path]),
        other => panic!("expected a method not in the descriptors, got {other:?}"),
    }
}

#[test]
fn names_outside_the_two_services_need_no_descriptor() {
    // The Nexus HTTP API names are classified although no descriptor declares them.
    let tables = generate_official().expect("the tables generate");
    assert!(
        tables
            .api_table
            .contains("\"/temporal.api.nexusservice.v1.NexusService/DispatchNexusTask\"")
    );
}

#[test]
fn malformed_classification_lines_fail() {
    let cases = [
        ("cluster read", 1),
        ("global read /a.B/C", 1),
        ("cluster execute /a.B/C", 1),
        ("cluster read a.B/C", 1),
        ("cluster read /a.B/C\"", 1),
        ("# comment\n\ncluster read /a.B/C extra", 3),
    ];
    for (text, line) in cases {
        match parse_classification(text) {
            Err(GenerateError::Syntax { line: at, .. }) => assert_eq!(at, line, "{text:?}"),
            other => panic!("{text:?}: expected a syntax error, got {other:?}"),
        }
    }
    match parse_classification("cluster read /a.B/C\nnamespace write /a.B/C\n") {
        Err(GenerateError::Duplicate { line: 2, path }) => assert_eq!(path, "/a.B/C"),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    let rows = parse_classification("  namespace admin /a.B/C  \n").expect("parses");
    assert_eq!(
        (rows[0].path.as_str(), rows[0].scope, rows[0].access),
        ("/a.B/C", "Namespace", "Admin")
    );
}
