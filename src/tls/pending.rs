//! How many TLS handshakes each peer address has in flight, so one address cannot take every
//! handshake slot: past its share, its new connections are closed at once instead of waiting
//! (a client that opens connections and never speaks would otherwise starve everyone else
//! until its handshakes time out).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Pending handshakes per peer IP address, up to `max` each.
#[derive(Debug)]
pub(crate) struct PendingByPeer {
    max: usize,
    counts: Mutex<HashMap<IpAddr, usize>>,
}

impl PendingByPeer {
    pub(crate) fn new(max: usize) -> Arc<PendingByPeer> {
        Arc::new(PendingByPeer {
            max: max.max(1),
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for one more handshake from `ip`, or `None` when it already has `max`.
    pub(crate) fn try_enter(self: &Arc<Self>, ip: IpAddr) -> Option<PeerSlot> {
        // The map is only counted in, never left half-updated: a poisoned lock is still sound.
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(ip).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(PeerSlot {
            owner: Arc::clone(self),
            ip,
        })
    }

    #[cfg(test)]
    fn pending(&self, ip: IpAddr) -> usize {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.get(&ip).copied().unwrap_or(0)
    }
}

/// One pending handshake; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct PeerSlot {
    owner: Arc<PendingByPeer>,
    ip: IpAddr,
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut counts = self
            .owner
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                // Addresses seen once do not accumulate.
                counts.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_share() {
        let pending = PendingByPeer::new(2);
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 1].into();
        let first = pending.try_enter(a);
        let second = pending.try_enter(a);
        assert!(first.is_some() && second.is_some());
        assert!(pending.try_enter(a).is_none());
        assert!(pending.try_enter(b).is_some());
        drop(first);
        assert_eq!(pending.pending(a), 1);
        assert!(pending.try_enter(a).is_some());
        drop(second);
        assert_eq!(pending.pending(b), 0);
    }
}
