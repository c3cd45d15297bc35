//! Time for tokens: a fixed "now" for deterministic expiry checks, and the real one for
//! tokens that must be valid against the system clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A fixed "now" (seconds since the Unix epoch) for deterministic time checks.
pub const NOW: u64 = 1_800_000_000;

/// [`NOW`] as a `SystemTime`, for a claim mapper's clock.
pub fn fixed_clock() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

/// A clock a test moves: the seconds since the Unix epoch it reads (starting at [`NOW`]), and
/// a claim mapper's clock that reads them.
pub fn moving_clock() -> (
    Arc<AtomicU64>,
    impl Fn() -> SystemTime + Send + Sync + 'static,
) {
    let now = Arc::new(AtomicU64::new(NOW));
    let read = Arc::clone(&now);
    (now, move || {
        UNIX_EPOCH + Duration::from_secs(read.load(Ordering::SeqCst))
    })
}

/// Seconds since the Unix epoch, for `iat` / `exp`; 0 if the clock is before 1970.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
