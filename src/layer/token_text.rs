//! The credentials header as the `String` a claim mapper reads, without checking and copying
//! the same token on every call.
//!
//! A caller sends the same token on call after call, and a 700-byte token costs a UTF-8 check,
//! an allocation, a copy and a free each time it becomes `AuthInfo::auth_token`. Each thread
//! keeps the text of the last token it made: a header with the same bytes gets that `String`
//! back as it is (it was checked when it was made), and a different one is checked and
//! copied into its allocation. A call hands the text back once its claim mapper has answered.
//! A call that waits for its answer keeps it; the next call on the thread then starts afresh.

use std::cell::RefCell;

/// Texts longer than this are not kept: a rare huge header should not hold its memory.
const KEPT_CAPACITY: usize = 8 * 1024;

thread_local! {
    static LAST: RefCell<String> = const { RefCell::new(String::new()) };
}

/// `bytes` as text; `None` when they are not UTF-8.
pub(super) fn text_of(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return Some(String::new());
    }
    let mut last = LAST.with(RefCell::take);
    if same_bytes(last.as_bytes(), bytes) {
        return Some(last);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    last.clear();
    last.push_str(text);
    Some(last)
}

/// Whether `kept` and `bytes` are the same, looking at every byte when the lengths agree:
/// `kept` is another caller's token, and how long a prefix matches must not show in the time
/// a call takes.
fn same_bytes(kept: &[u8], bytes: &[u8]) -> bool {
    if kept.len() != bytes.len() {
        return false;
    }
    kept.iter()
        .zip(bytes)
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}

/// Keeps `text` (from [`text_of`]) for the thread's next call.
pub(super) fn give_back(text: String) {
    if text.capacity() == 0 || text.capacity() > KEPT_CAPACITY {
        return;
    }
    LAST.with(|last| *last.borrow_mut() = text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_bytes_give_the_same_text_without_a_new_allocation() {
        let token = "Bearer a.b.c";
        let first = text_of(token.as_bytes()).unwrap();
        assert_eq!(first, token);
        let at = first.as_ptr();
        give_back(first);
        let again = text_of(token.as_bytes()).unwrap();
        assert_eq!(again, token);
        assert_eq!(again.as_ptr(), at, "the kept text is reused");
        give_back(again);
        // Other bytes: checked and copied, never the kept text.
        let other = text_of(b"Bearer x.y.z").unwrap();
        assert_eq!(other, "Bearer x.y.z");
        give_back(other);
        assert_eq!(text_of(b"").unwrap(), "");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_refused_even_after_a_kept_text() {
        give_back(text_of(b"Bearer a").unwrap());
        assert_eq!(text_of(b"Bearer \xff"), None);
        // A prefix of the kept text is its own text, not the kept one.
        give_back(text_of(b"Bearer abc").unwrap());
        assert_eq!(text_of(b"Bearer ab").unwrap(), "Bearer ab");
    }

    #[test]
    fn a_text_taken_and_not_given_back_is_not_shared() {
        let a = text_of(b"Bearer one").unwrap();
        // `a` is still held (a waiting call): the next call gets its own text.
        let b = text_of(b"Bearer one").unwrap();
        assert_eq!(a, b);
        assert_ne!(a.as_ptr(), b.as_ptr());
    }

    #[test]
    fn same_bytes_needs_every_byte() {
        assert!(same_bytes(b"", b""));
        assert!(same_bytes(b"abc", b"abc"));
        assert!(!same_bytes(b"abc", b"abd"));
        assert!(!same_bytes(b"abc", b"xbc"));
        assert!(!same_bytes(b"abc", b"ab"));
    }

    #[test]
    fn huge_texts_are_not_kept() {
        let big = "x".repeat(KEPT_CAPACITY + 1);
        give_back(text_of(big.as_bytes()).unwrap());
        assert_eq!(LAST.with(|last| last.borrow().capacity()), 0);
        give_back(text_of(b"Bearer small").unwrap());
        assert!(LAST.with(|last| last.borrow().capacity()) > 0);
    }
}
