//! Empty long polls. A real Temporal server holds a poll open until a task arrives or about
//! 60 s pass; this backend has no tasks, so it waits a short, configured time and answers the
//! all-default message, which SDK workers treat as "no task". It never waits past the client's
//! `grpc-timeout`, so a poll ends in OK rather than DEADLINE_EXCEEDED.

use std::time::Duration;

use tonic::metadata::MetadataMap;

/// Time kept in hand before the client's deadline, so the answer arrives in time.
const MIN_MARGIN: Duration = Duration::from_millis(100);

/// Parses a `grpc-timeout` value (`<digits><unit>`, units H M S m u n, at most 8 digits).
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let unit_at = value.len().checked_sub(1)?;
    let (digits, unit) = value.split_at(unit_at);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// How long to hold an empty poll: the configured wait, cut short before the client's deadline.
pub(super) fn wait_for(metadata: &MetadataMap, configured: Duration) -> Duration {
    let deadline = metadata
        .get("grpc-timeout")
        .and_then(|value| value.to_str().ok())
        .and_then(parse_grpc_timeout);
    match deadline {
        Some(deadline) => {
            let margin = (deadline / 10).max(MIN_MARGIN);
            configured.min(deadline.saturating_sub(margin))
        }
        None => configured,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_grpc_timeouts() {
        assert_eq!(parse_grpc_timeout("70S"), Some(Duration::from_secs(70)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("5x"), None);
        assert_eq!(parse_grpc_timeout(""), None);
    }

    #[test]
    fn never_waits_past_the_deadline() {
        let mut metadata = MetadataMap::new();
        let configured = Duration::from_secs(2);
        assert_eq!(wait_for(&metadata, configured), configured);
        metadata.insert("grpc-timeout", "70S".parse().expect("valid header value"));
        assert_eq!(wait_for(&metadata, configured), configured);
        metadata.insert("grpc-timeout", "500m".parse().expect("valid header value"));
        assert_eq!(wait_for(&metadata, configured), Duration::from_millis(400));
        metadata.insert("grpc-timeout", "50m".parse().expect("valid header value"));
        assert_eq!(wait_for(&metadata, configured), Duration::ZERO);
    }
}
