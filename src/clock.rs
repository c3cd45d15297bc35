//! The wall clock in whole Unix seconds, for the checks a call makes on every request (a
//! cached token's `exp` and maximum age). Reading the exact clock costs about 30 ns per call;
//! on Linux the kernel's coarse clock answers in about 3 ns, from its last timer tick. That
//! clock can be up to one tick behind, so it is read rounded up by a tick: the answer is never
//! behind the exact clock, and a check made with it is never more lenient (a token is refused
//! at most one tick before its `exp` second ends, never after).

use std::time::{SystemTime, UNIX_EPOCH};

/// Unix seconds of `time`, rounded down (negative before 1970).
pub(crate) fn unix_secs(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// Unix seconds now, never less than [`unix_secs`] of the exact clock read at the same
/// moment, and more by at most one second when a tick is about to end one.
#[cfg(target_os = "linux")]
// Inlined into the layer's allowed path with its other steps (see `layer::call`).
#[inline(always)]
pub(crate) fn unix_secs_not_behind() -> i64 {
    use rustix::time::{ClockId, DynamicClockId, clock_gettime_dynamic};
    const NANOS: i64 = 1_000_000_000;
    match clock_gettime_dynamic(DynamicClockId::Known(ClockId::RealtimeCoarse)) {
        Ok(t) => t
            .tv_sec
            .saturating_add(t.tv_nsec.saturating_add(tick_nanos()) / NANOS),
        // A kernel (or sandbox) without the coarse clock: the exact one.
        Err(_) => unix_secs(SystemTime::now()),
    }
}

/// Without a coarse clock: the exact one.
#[cfg(not(target_os = "linux"))]
#[inline(always)]
pub(crate) fn unix_secs_not_behind() -> i64 {
    unix_secs(SystemTime::now())
}

/// How far the coarse clock may be behind: its resolution (one timer tick, 1 to 10 ms), read
/// once, and never taken as less than 10 ms (the longest tick Linux has) or more than a second.
#[cfg(target_os = "linux")]
fn tick_nanos() -> i64 {
    use std::sync::OnceLock;
    static TICK: OnceLock<i64> = OnceLock::new();
    *TICK.get_or_init(|| {
        let res = rustix::time::clock_getres(rustix::time::ClockId::RealtimeCoarse);
        res.tv_sec
            .saturating_mul(1_000_000_000)
            .saturating_add(res.tv_nsec)
            .clamp(10_000_000, 1_000_000_000)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cheap_clock_is_never_behind_the_exact_one() {
        for _ in 0..100_000 {
            let exact = unix_secs(SystemTime::now());
            let cheap = unix_secs_not_behind();
            let exact_after = unix_secs(SystemTime::now());
            assert!(cheap >= exact, "{cheap} < {exact}");
            assert!(cheap <= exact_after + 1, "{cheap} > {exact_after} + 1");
        }
    }

    #[test]
    fn seconds_before_1970_are_negative() {
        let before = UNIX_EPOCH - std::time::Duration::from_secs(5);
        assert_eq!(unix_secs(before), -5);
        assert_eq!(
            unix_secs(UNIX_EPOCH + std::time::Duration::from_millis(1500)),
            1
        );
    }
}
