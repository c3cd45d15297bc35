//! The small subset of Temporal's visibility query language the backend understands, enough
//! for `temporal workflow list -q` and SDK `list_workflows` in tests: an empty query, or
//! `Attribute = 'value'` clauses joined by `AND`, over `WorkflowId`, `RunId`, `WorkflowType`,
//! `TaskQueue` and `ExecutionStatus`. Anything else is rejected as INVALID_ARGUMENT rather than
//! silently matching everything.

use temporalio_protos::protos::temporal::api::enums::v1::WorkflowExecutionStatus;
use tonic::Status;

use super::status::invalid_argument;

/// What a clause compares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Clause {
    WorkflowId(String),
    RunId(String),
    WorkflowType(String),
    TaskQueue(String),
    Status(WorkflowExecutionStatus),
}

/// A parsed query: all clauses must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Query {
    pub(super) clauses: Vec<Clause>,
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Text(String),
    Equals,
}

fn tokenize(input: &str) -> Result<Vec<Token>, Status> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '=' => {
                chars.next();
                tokens.push(Token::Equals);
            }
            '\'' | '"' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        Some(end) if end == c => break,
                        Some(other) => text.push(other),
                        None => return Err(invalid_query(input, "unterminated string")),
                    }
                }
                tokens.push(Token::Text(text));
            }
            c if c.is_ascii_alphanumeric() || c == '_' => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if !(c.is_ascii_alphanumeric() || c == '_') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
            other => return Err(invalid_query(input, &format!("unexpected '{other}'"))),
        }
    }
    Ok(tokens)
}

fn invalid_query(query: &str, why: &str) -> Status {
    invalid_argument(format!("invalid query {query:?}: {why}"))
}

fn status_named(name: &str) -> Option<WorkflowExecutionStatus> {
    Some(match name {
        "Running" => WorkflowExecutionStatus::Running,
        "Completed" => WorkflowExecutionStatus::Completed,
        "Failed" => WorkflowExecutionStatus::Failed,
        "Canceled" => WorkflowExecutionStatus::Canceled,
        "Terminated" => WorkflowExecutionStatus::Terminated,
        "ContinuedAsNew" => WorkflowExecutionStatus::ContinuedAsNew,
        "TimedOut" => WorkflowExecutionStatus::TimedOut,
        _ => return None,
    })
}

/// Parses a visibility query.
pub(super) fn parse(input: &str) -> Result<Query, Status> {
    let tokens = tokenize(input)?;
    let mut clauses = Vec::new();
    let mut rest = tokens.as_slice();
    while !rest.is_empty() {
        if !clauses.is_empty() {
            match rest {
                [Token::Word(and), tail @ ..] if and.eq_ignore_ascii_case("and") => rest = tail,
                _ => return Err(invalid_query(input, "clauses must be joined by AND")),
            }
        }
        let [
            Token::Word(attribute),
            Token::Equals,
            Token::Text(value),
            tail @ ..,
        ] = rest
        else {
            return Err(invalid_query(input, "expected Attribute = 'value'"));
        };
        rest = tail;
        let value = value.clone();
        clauses.push(match attribute.as_str() {
            "WorkflowId" => Clause::WorkflowId(value),
            "RunId" => Clause::RunId(value),
            "WorkflowType" => Clause::WorkflowType(value),
            "TaskQueue" => Clause::TaskQueue(value),
            "ExecutionStatus" => Clause::Status(
                status_named(&value)
                    .ok_or_else(|| invalid_query(input, "unknown ExecutionStatus"))?,
            ),
            other => {
                return Err(invalid_query(
                    input,
                    &format!("unsupported attribute {other}"),
                ));
            }
        });
    }
    Ok(Query { clauses })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_query_matches_everything() {
        assert_eq!(parse("  ").expect("empty query"), Query::default());
    }

    #[test]
    fn parses_clauses_joined_by_and() {
        let query =
            parse(r#"WorkflowType = 'greet' and ExecutionStatus="Running""#).expect("valid query");
        assert_eq!(
            query.clauses,
            vec![
                Clause::WorkflowType("greet".to_owned()),
                Clause::Status(WorkflowExecutionStatus::Running)
            ]
        );
    }

    #[test]
    fn rejects_what_it_does_not_understand() {
        for bad in [
            "WorkflowId = 'a' OR WorkflowId = 'b'",
            "StartTime > '2020-01-01'",
            "ExecutionStatus = 'Sleeping'",
            "WorkflowId = 'open",
            "WorkflowId 'a'",
        ] {
            let err = parse(bad).expect_err("must be rejected");
            assert_eq!(err.code(), tonic::Code::InvalidArgument, "{bad}");
            assert!(err.message().starts_with("invalid query"), "{bad}");
        }
    }
}
