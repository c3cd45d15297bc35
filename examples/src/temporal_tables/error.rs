//! Why the Temporal tables could not be generated.

use std::fmt;

/// A failure to generate the Temporal tables.
#[derive(Debug)]
#[non_exhaustive]
pub enum GenerateError {
    /// The descriptor set did not decode.
    Descriptors(prost_reflect::DescriptorError),
    /// The descriptor set lacks one of the services the tables cover.
    MissingService(String),
    /// A classification line is not `SCOPE ACCESS PATH`.
    Syntax {
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// A method is classified twice.
    Duplicate {
        /// The line number of the second entry, from 1.
        line: usize,
        /// The method's path.
        path: String,
    },
    /// Methods in the descriptors that the classification does not list.
    Unclassified(Vec<String>),
    /// Classified methods of the two services that the descriptors do not have.
    NotInDescriptors(Vec<String>),
}

impl fmt::Display for GenerateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenerateError::Descriptors(_) => f.write_str("the descriptor set does not decode"),
            GenerateError::MissingService(name) => {
                write!(f, "the descriptor set has no service {name}")
            }
            GenerateError::Syntax { line, problem } => {
                write!(f, "classification line {line}: {problem}")
            }
            GenerateError::Duplicate { line, path } => {
                write!(
                    f,
                    "classification line {line}: {path} is already classified"
                )
            }
            GenerateError::Unclassified(paths) => write!(
                f,
                "methods missing from the classification (add a line for each to \
                 examples/src/temporal_tables/api_classification.txt): {}",
                paths.join(", ")
            ),
            GenerateError::NotInDescriptors(paths) => write!(
                f,
                "classified methods the descriptors do not have (remove them from \
                 examples/src/temporal_tables/api_classification.txt): {}",
                paths.join(", ")
            ),
        }
    }
}

impl std::error::Error for GenerateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GenerateError::Descriptors(error) => Some(error),
            _ => None,
        }
    }
}
