//! The credentials header as the `String` a claim mapper reads, without checking and copying
//! the same token on every call.
//!
//! A caller sends the same token on call after call, and a 700-byte token costs a UTF-8 check,
//! an allocation, a copy and a free each time it becomes `AuthInfo::auth_token`. Each thread
//! keeps the text of the last token it made, under a number no other text ever gets (its
//! *text id*): a header with the same bytes gets that `String` back as it is (it was checked
//! when it was made), and a different one is checked and copied into its allocation under a
//! new number. A call hands the text back once its claim mapper has answered. A call that
//! waits for its answer keeps it; the next call on the thread then starts afresh.
//!
//! The text id lets the JWT mapper's cache remember, per thread, which entry the text found
//! (`claim_mapper::jwt::cache`), so a repeated token is compared here once, and neither
//! compared nor hashed again by the cache.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use http::HeaderValue;

/// Texts longer than this are not kept: a rare huge header should not hold its memory.
const KEPT_CAPACITY: usize = 8 * 1024;

/// The next text id; zero is never one (`AuthInfo` without a layer's text).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The thread's last token text and its id; the text is empty while a call holds it.
    static LAST: RefCell<(String, u64)> = const { RefCell::new((String::new(), 0)) };
}

/// The header's value as text, with its text id; `None` when its bytes are not UTF-8. An
/// empty value is the empty text, with id zero.
// Inlined into the layer's allowed path with its other steps (see `layer::call`).
#[inline(always)]
pub(super) fn text_of(value: &HeaderValue) -> Option<(String, u64)> {
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        return Some((String::new(), 0));
    }
    LAST.with_borrow_mut(|(kept, id)| {
        let mut text = std::mem::take(kept);
        if !text.is_empty() && same_bytes(text.as_bytes(), bytes) {
            return Some((text, *id));
        }
        let checked = std::str::from_utf8(bytes).ok()?;
        text.clear();
        text.push_str(checked);
        *id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Some((text, *id))
    })
}

/// Whether `kept` and `bytes` are the same, looking at every byte when the lengths agree:
/// `kept` is another caller's token, and how long a prefix matches must not show in the time
/// a call takes.
#[inline(always)]
fn same_bytes(kept: &[u8], bytes: &[u8]) -> bool {
    if kept.len() != bytes.len() {
        return false;
    }
    kept.iter()
        .zip(bytes)
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}

/// Keeps `text`, text number `id` (from [`text_of`]), for the thread's next call.
#[inline(always)]
pub(super) fn give_back(text: String, id: u64) {
    if text.capacity() == 0 || text.capacity() > KEPT_CAPACITY || id == 0 {
        return;
    }
    LAST.set((text, id));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copied(bytes: &[u8]) -> HeaderValue {
        HeaderValue::from_bytes(bytes).unwrap()
    }

    #[test]
    fn the_same_bytes_give_the_same_text_and_id_without_a_new_allocation() {
        let token = "Bearer a.b.c";
        let (first, id) = text_of(&copied(token.as_bytes())).unwrap();
        assert_eq!(first, token);
        assert_ne!(id, 0);
        let at = first.as_ptr();
        give_back(first, id);
        // Another buffer with the same bytes: compared, the same text.
        let (again, again_id) = text_of(&copied(token.as_bytes())).unwrap();
        assert_eq!(again, token);
        assert_eq!(again_id, id);
        assert_eq!(again.as_ptr(), at, "the kept text is reused");
        give_back(again, again_id);
        // Other bytes: checked and copied under a new id, never the kept text.
        let (other, other_id) = text_of(&copied(b"Bearer x.y.z")).unwrap();
        assert_eq!(other, "Bearer x.y.z");
        assert!(other_id != id && other_id != 0);
        give_back(other, other_id);
        assert_eq!(text_of(&copied(b"")).unwrap(), (String::new(), 0));
    }

    #[test]
    fn a_text_made_again_gets_a_new_id() {
        let (text, id) = text_of(&copied(b"Bearer old")).unwrap();
        give_back(text, id);
        let (text, new_id) = text_of(&copied(b"Bearer new")).unwrap();
        assert_ne!(new_id, id);
        give_back(text, new_id);
        let (text, again) = text_of(&copied(b"Bearer old")).unwrap();
        assert_eq!(text, "Bearer old");
        assert!(again != id && again != new_id);
        give_back(text, again);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_refused_even_after_a_kept_text() {
        let (text, id) = text_of(&copied(b"Bearer a")).unwrap();
        give_back(text, id);
        assert_eq!(text_of(&copied(b"Bearer \xff")), None);
        // A prefix of the kept text is its own text, not the kept one.
        let (text, id) = text_of(&copied(b"Bearer abc")).unwrap();
        give_back(text, id);
        let (prefix, prefix_id) = text_of(&copied(b"Bearer ab")).unwrap();
        assert_eq!(prefix, "Bearer ab");
        assert_ne!(prefix_id, id);
    }

    #[test]
    fn a_text_taken_and_not_given_back_is_not_shared() {
        let (a, a_id) = text_of(&copied(b"Bearer one")).unwrap();
        // `a` is still held (a waiting call): the next call gets its own text.
        let (b, b_id) = text_of(&copied(b"Bearer one")).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.as_ptr(), b.as_ptr());
        assert_ne!(a_id, b_id, "two allocations, two ids");
        // Whichever comes back last is kept, with its own id.
        give_back(b, b_id);
        give_back(a, a_id);
        let (c, c_id) = text_of(&copied(b"Bearer one")).unwrap();
        assert_eq!(c_id, a_id);
        give_back(c, c_id);
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
        let (text, id) = text_of(&copied(big.as_bytes())).unwrap();
        give_back(text, id);
        assert_eq!(LAST.with_borrow(|kept| kept.0.capacity()), 0);
        let (text, id) = text_of(&copied(b"Bearer small")).unwrap();
        give_back(text, id);
        assert!(LAST.with_borrow(|kept| kept.0.capacity()) > 0);
    }
}
