//! How many TLS handshakes each peer address has in flight, so one address cannot take every
//! handshake slot. Past its share, the address's oldest pending handshake is cancelled to make
//! room for the new one: a client that opens connections and never speaks then only pushes out
//! its own idle connections, while a real client from the same address (behind the same NAT)
//! still gets its turn, and clients from other addresses are never held up by it.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

/// One address's pending handshakes, oldest first: an id and the sender whose drop cancels it.
type Queue = VecDeque<(u64, oneshot::Sender<()>)>;

/// Pending handshakes per peer IP address, up to `max` each.
#[derive(Debug)]
pub(crate) struct PendingByPeer {
    max: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    queues: HashMap<IpAddr, Queue>,
}

impl PendingByPeer {
    pub(crate) fn new(max: usize) -> Arc<PendingByPeer> {
        Arc::new(PendingByPeer {
            max: max.max(1),
            state: Mutex::new(State::default()),
        })
    }

    /// A slot for one more handshake from `ip`, and the signal that cancels it. When `ip`
    /// already has `max`, its oldest pending handshake is cancelled.
    pub(crate) fn enter(self: &Arc<Self>, ip: IpAddr) -> (PeerSlot, oneshot::Receiver<()>) {
        let (cancel, cancelled) = oneshot::channel();
        // Only counted in, never left half-updated: a poisoned lock is still sound.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let id = state.next_id;
        state.next_id += 1;
        let queue = state.queues.entry(ip).or_default();
        while queue.len() >= self.max {
            // Dropping the sender wakes the handshake task, which gives up.
            drop(queue.pop_front());
        }
        queue.push_back((id, cancel));
        let slot = PeerSlot {
            owner: Arc::clone(self),
            ip,
            id,
        };
        (slot, cancelled)
    }

    #[cfg(test)]
    fn pending(&self, ip: IpAddr) -> usize {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.queues.get(&ip).map_or(0, VecDeque::len)
    }
}

/// One pending handshake; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct PeerSlot {
    owner: Arc<PendingByPeer>,
    ip: IpAddr,
    id: u64,
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut state = self
            .owner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(queue) = state.queues.get_mut(&self.ip) {
            queue.retain(|(id, _)| *id != self.id);
            if queue.is_empty() {
                // Addresses seen once do not accumulate.
                state.queues.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_handshake_of_a_full_address_makes_room() {
        let pending = PendingByPeer::new(2);
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 1].into();
        let (first, mut first_cancelled) = pending.enter(a);
        let (_second, mut second_cancelled) = pending.enter(a);
        let (_other, mut other_cancelled) = pending.enter(b);
        assert!(
            first_cancelled
                .try_recv()
                .is_err_and(|e| e == oneshot::error::TryRecvError::Empty)
        );
        let (_third, _) = pending.enter(a);
        // The oldest from `a` is cancelled; the rest, and `b`, are not.
        assert_eq!(
            first_cancelled.try_recv(),
            Err(oneshot::error::TryRecvError::Closed)
        );
        assert_eq!(
            second_cancelled.try_recv(),
            Err(oneshot::error::TryRecvError::Empty)
        );
        assert_eq!(
            other_cancelled.try_recv(),
            Err(oneshot::error::TryRecvError::Empty)
        );
        assert_eq!(pending.pending(a), 2);
        drop(first);
        assert_eq!(pending.pending(a), 2);
        drop(_other);
        assert_eq!(pending.pending(b), 0);
    }
}
