//! Page tokens for the list RPCs: an opaque, versioned offset. Clients pass back what they got;
//! an empty token starts at the top and an empty token in a response ends paging.

use tonic::Status;

use super::status::invalid_argument;

/// Token layout: one version byte, then the offset as 8 big-endian bytes.
const VERSION: u8 = 1;

/// The offset a request's token points at.
pub(super) fn offset(token: &[u8]) -> Result<usize, Status> {
    if token.is_empty() {
        return Ok(0);
    }
    match token {
        [VERSION, rest @ ..] => <[u8; 8]>::try_from(rest)
            .ok()
            .and_then(|bytes| usize::try_from(u64::from_be_bytes(bytes)).ok())
            .ok_or_else(|| invalid_argument("invalid page token")),
        _ => Err(invalid_argument("invalid page token")),
    }
}

/// The page size to use for a request's `page_size`.
pub(super) fn page_size(requested: i32, default: usize) -> usize {
    usize::try_from(requested)
        .ok()
        .filter(|size| *size > 0)
        .unwrap_or(default)
}

/// Cuts one page out of `items`; returns it and the token for the next page (empty at the end).
pub(super) fn page<T: Clone>(items: &[T], offset: usize, size: usize) -> (Vec<T>, Vec<u8>) {
    let start = offset.min(items.len());
    let end = start.saturating_add(size).min(items.len());
    let next = if end < items.len() {
        let mut token = vec![VERSION];
        token.extend_from_slice(&(end as u64).to_be_bytes());
        token
    } else {
        Vec::new()
    };
    (items[start..end].to_vec(), next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_until_the_token_is_empty() {
        let items: Vec<u32> = (0..5).collect();
        let (first, token) = page(&items, 0, 2);
        assert_eq!(first, vec![0, 1]);
        let (second, token) = page(&items, offset(&token).expect("our own token"), 2);
        assert_eq!(second, vec![2, 3]);
        let (third, token) = page(&items, offset(&token).expect("our own token"), 2);
        assert_eq!(third, vec![4]);
        assert!(token.is_empty());
    }

    #[test]
    fn rejects_foreign_tokens() {
        assert_eq!(
            offset(b"garbage").expect_err("must be rejected").message(),
            "invalid page token"
        );
        assert_eq!(
            offset(&[1, 0, 0]).expect_err("must be rejected").code(),
            tonic::Code::InvalidArgument
        );
    }

    #[test]
    fn zero_page_size_means_default() {
        assert_eq!(page_size(0, 1000), 1000);
        assert_eq!(page_size(-3, 1000), 1000);
        assert_eq!(page_size(7, 1000), 7);
    }
}
