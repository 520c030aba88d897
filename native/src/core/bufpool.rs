//! A bounded pool of idle buffers with hit/miss/release/drop counters.
//!
//! Generic over the buffer type so the Python layer can pool `bytearray` objects while
//! tests use plain vectors. One mutex guards the stack and the counters together, so
//! `stats()` is a consistent snapshot.

use std::sync::{Mutex, MutexGuard};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub hits: u64,
    pub misses: u64,
    pub released: u64,
    pub dropped: u64,
}

struct Inner<T> {
    idle: Vec<T>,
    stats: Stats,
}

pub struct Pool<T> {
    capacity: usize,
    inner: Mutex<Inner<T>>,
}

impl<T> Pool<T> {
    pub fn new(capacity: usize) -> Pool<T> {
        Pool {
            capacity,
            inner: Mutex::new(Inner {
                idle: Vec::new(),
                stats: Stats::default(),
            }),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // A panic while holding the lock cannot leave the stack half-updated (every
        // critical section is a push or pop plus counter bumps): keep using it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An idle buffer (a hit), or `None` (a miss: the caller makes a new one).
    pub fn acquire(&self) -> Option<T> {
        let mut g = self.lock();
        let got = g.idle.pop();
        if got.is_some() {
            g.stats.hits += 1;
        } else {
            g.stats.misses += 1;
        }
        got
    }

    /// Takes back a buffer the caller already cleared. `oversize` buffers, and any
    /// beyond `capacity` idle ones, are dropped: returns whether it was kept.
    pub fn release(&self, buf: T, oversize: bool) -> bool {
        let mut g = self.lock();
        g.stats.released += 1;
        if oversize || g.idle.len() >= self.capacity {
            g.stats.dropped += 1;
            drop(g);
            drop(buf); // outside the lock: dropping may be costly
            return false;
        }
        g.idle.push(buf);
        true
    }

    pub fn available(&self) -> usize {
        self.lock().idle.len()
    }

    pub fn stats(&self) -> Stats {
        self.lock().stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lazy_lifo_bounded() {
        let p: Pool<Vec<u8>> = Pool::new(2);
        assert_eq!(p.available(), 0);
        assert!(p.acquire().is_none());
        assert!(p.release(vec![1], false));
        assert!(p.release(vec![2], false));
        assert!(!p.release(vec![3], false)); // full
        assert!(!p.release(vec![4], true)); // oversize
        assert_eq!(p.available(), 2);
        assert_eq!(p.acquire(), Some(vec![2]));
        assert_eq!(
            p.stats(),
            Stats {
                hits: 1,
                misses: 1,
                released: 4,
                dropped: 2
            }
        );
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let p: Pool<u8> = Pool::new(0);
        assert!(!p.release(1, false));
        assert_eq!(p.stats().dropped, 1);
        assert_eq!(p.available(), 0);
    }

    #[test]
    fn thread_safe_counts() {
        let p = std::sync::Arc::new(Pool::<Vec<u8>>::new(8));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let p = p.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        let b = p.acquire().unwrap_or_default();
                        p.release(b, false);
                    }
                })
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        let s = p.stats();
        assert_eq!(s.hits + s.misses, 4000);
        assert_eq!(s.released, 4000);
        assert!(p.available() <= 8);
        assert_eq!(s.released - s.dropped, p.available() as u64 + s.hits);
    }
}
