//! Go-template config files. Temporal renders a config file as a Go template (with the process
//! environment and sprig's functions) when its leading comments hold a `# enable-template`
//! line. This crate reads plain YAML only, and a template read as YAML would fail later with a
//! confusing parse error, or worse, load with `{{ ... }}` text as values; so such a file is
//! refused up front with a message saying what to do.

use super::{ConfigError, ConfigErrorKind};

/// The marker line Temporal looks for.
const MARKER: &str = "# enable-template";

/// Refuses a file whose leading comment block holds the `# enable-template` marker.
pub(super) fn refuse_templates(yaml: &str) -> Result<(), ConfigError> {
    for (index, line) in yaml.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if !line.starts_with('#') {
            // The marker only counts among the leading comments.
            return Ok(());
        }
        if line == MARKER {
            let line_number = u64::try_from(index + 1).unwrap_or(u64::MAX);
            return Err(ConfigError::new(
                ConfigErrorKind::Parse,
                "this file is a Go template (`# enable-template`) and templates are not \
                 rendered here: render it first with the variables it needs (for example \
                 `dockerize -template config_template.yaml:config.yaml`, as Temporal's images \
                 do) and load the rendered file, or write the values in plain YAML, with \
                 `${NAME}` or `${NAME:-default}` for variables",
            )
            .with_location(line_number, 1));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_counts_only_among_leading_comments() {
        let e = refuse_templates("# Temporal\n\n# enable-template\nlog: {}\n").unwrap_err();
        assert_eq!(e.line(), Some(3));
        assert!(e.message().starts_with("this file is a Go template"), "{e}");
        assert!(refuse_templates("# enable-template\n").is_err());
        assert!(refuse_templates("log: {}\n# enable-template\n").is_ok());
        assert!(refuse_templates("# enable-templates are fine\nlog: {}\n").is_ok());
        assert!(refuse_templates("").is_ok());
    }
}
