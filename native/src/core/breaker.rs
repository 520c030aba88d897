//! Circuit-breaker counters in one 64-byte slot, updated lock-free.
//!
//! Slot layout (little-endian, native atomics), shared with the Cython tier and with
//! other processes mapping the same file:
//!
//! | bytes  | field |
//! |--------|-------|
//! | 0..8   | packed word: bits 0-7 state, 8-23 consecutive failures (saturating), 24-39 half-open successes, 40-55 half-open inflight |
//! | 8..16  | opened_at_ms |
//! | 16..64 | reserved (zero) |
//!
//! Every transition is a compare-and-swap of the packed word. A transition to OPEN stores
//! `opened_at` *before* its CAS, so whoever observes OPEN (acquire) also observes an
//! `opened_at` at least as new as the one belonging to that OPEN.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

pub const SLOT_SIZE: usize = 64;
pub const CLOSED: u8 = 0;
pub const OPEN: u8 = 1;
pub const HALF_OPEN: u8 = 2;

const MAX_COUNT: u64 = 0xFFFF;
/// Bits 56-63 are not ours: preserved as found.
const FOREIGN_BITS: u64 = 0xFF00_0000_0000_0000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fields {
    pub state: u8,
    pub failures: u16,
    pub successes: u16,
    pub inflight: u16,
    foreign: u64,
}

impl Fields {
    pub fn unpack(w: u64) -> Fields {
        Fields {
            state: (w & 0xFF) as u8,
            failures: ((w >> 8) & MAX_COUNT) as u16,
            successes: ((w >> 24) & MAX_COUNT) as u16,
            inflight: ((w >> 40) & MAX_COUNT) as u16,
            foreign: w & FOREIGN_BITS,
        }
    }

    pub fn pack(self) -> u64 {
        u64::from(self.state)
            | u64::from(self.failures) << 8
            | u64::from(self.successes) << 24
            | u64::from(self.inflight) << 40
            | self.foreign
    }

    fn closed(self) -> Fields {
        Fields {
            state: CLOSED,
            failures: 0,
            successes: 0,
            inflight: 0,
            foreign: self.foreign,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub failure_threshold: u16,
    pub reset_timeout_ms: u64,
    pub half_open_requests: u16,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ConfigError {
    FailureThreshold,
    ResetTimeout,
    HalfOpenRequests,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ConfigError::FailureThreshold => "failure_threshold must be between 1 and 65535",
            ConfigError::ResetTimeout => "reset_timeout_ms must be between 0 and 2**62",
            ConfigError::HalfOpenRequests => "half_open_requests must be between 1 and 65535",
        })
    }
}

pub const MAX_RESET_TIMEOUT_MS: i128 = 1 << 62;

impl Config {
    pub fn new(
        failure_threshold: i128,
        reset_timeout_ms: i128,
        half_open_requests: i128,
    ) -> Result<Config, ConfigError> {
        if !(1..=65535).contains(&failure_threshold) {
            return Err(ConfigError::FailureThreshold);
        }
        if !(0..=MAX_RESET_TIMEOUT_MS).contains(&reset_timeout_ms) {
            return Err(ConfigError::ResetTimeout);
        }
        if !(1..=65535).contains(&half_open_requests) {
            return Err(ConfigError::HalfOpenRequests);
        }
        Ok(Config {
            failure_threshold: failure_threshold as u16,
            reset_timeout_ms: reset_timeout_ms as u64,
            half_open_requests: half_open_requests as u16,
        })
    }
}

/// Where the two words live.
enum Storage {
    Owned(Box<[AtomicU64; SLOT_SIZE / 8]>),
    /// A slot in memory someone else owns (a Python buffer kept alive by the caller).
    Shared(NonNull<AtomicU64>),
}

// SAFETY: the shared slot is only touched through atomics, and `Breaker::shared`'s
// contract keeps the memory valid for the breaker's whole life.
unsafe impl Send for Storage {}
unsafe impl Sync for Storage {}

pub struct Breaker {
    cfg: Config,
    storage: Storage,
}

impl Breaker {
    /// A breaker with a private slot, CLOSED.
    pub fn owned(cfg: Config) -> Breaker {
        Breaker {
            cfg,
            storage: Storage::Owned(Box::default()),
        }
    }

    /// A breaker whose slot is the 64 bytes at `slot`, used as found (a zeroed slot is a
    /// CLOSED breaker).
    ///
    /// # Safety
    /// `slot` must be 8-byte aligned, valid for reads and writes of 64 bytes, only ever
    /// accessed atomically by others, and stay valid for as long as the breaker lives.
    pub unsafe fn shared(cfg: Config, slot: NonNull<u8>) -> Breaker {
        debug_assert_eq!(slot.as_ptr() as usize % 8, 0);
        Breaker {
            cfg,
            storage: Storage::Shared(slot.cast()),
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    fn word(&self) -> &AtomicU64 {
        match &self.storage {
            Storage::Owned(b) => &b[0],
            // SAFETY: see `shared`.
            Storage::Shared(p) => unsafe { p.as_ref() },
        }
    }

    fn opened_at(&self) -> &AtomicU64 {
        match &self.storage {
            Storage::Owned(b) => &b[1],
            // SAFETY: see `shared`; the slot is 64 bytes, the second word is in it.
            Storage::Shared(p) => unsafe { &*p.as_ptr().add(1) },
        }
    }

    fn cas(&self, old: u64, new: Fields) -> bool {
        self.word()
            .compare_exchange_weak(old, new.pack(), Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn timeout_elapsed(&self, now_ms: u64) -> bool {
        let opened = self.opened_at().load(Ordering::Acquire);
        // A clock reading before opened_at (another process's skew) is "not yet".
        now_ms >= opened && now_ms - opened >= self.cfg.reset_timeout_ms
    }

    /// The state, after the OPEN → HALF_OPEN promotion when the timeout has passed.
    pub fn state(&self, now_ms: u64) -> u8 {
        loop {
            let w = self.word().load(Ordering::Acquire);
            let f = Fields::unpack(w);
            if f.state != OPEN || !self.timeout_elapsed(now_ms) {
                return f.state;
            }
            let half = Fields {
                state: HALF_OPEN,
                successes: 0,
                inflight: 0,
                ..f
            };
            if self.cas(w, half) {
                return HALF_OPEN;
            }
        }
    }

    /// May a request go ahead? In HALF_OPEN a yes takes one of the trial slots.
    pub fn allow(&self, now_ms: u64) -> bool {
        loop {
            let w = self.word().load(Ordering::Acquire);
            let f = Fields::unpack(w);
            let next = match f.state {
                OPEN => {
                    if !self.timeout_elapsed(now_ms) {
                        return false;
                    }
                    // promote and take the first trial slot in one step
                    Fields {
                        state: HALF_OPEN,
                        successes: 0,
                        inflight: 1,
                        ..f
                    }
                }
                HALF_OPEN => {
                    if f.inflight >= self.cfg.half_open_requests {
                        return false;
                    }
                    Fields {
                        inflight: f.inflight + 1,
                        ..f
                    }
                }
                _ => return true, // CLOSED, or a state byte we do not know
            };
            if self.cas(w, next) {
                return true;
            }
        }
    }

    /// A finished request succeeded. A state byte this code does not know (a slot written
    /// by something else) is left alone, as by every backend.
    pub fn record_success(&self, _now_ms: u64) {
        loop {
            let w = self.word().load(Ordering::Acquire);
            let f = Fields::unpack(w);
            let next = match f.state {
                CLOSED if f.failures != 0 => Fields { failures: 0, ..f },
                HALF_OPEN => {
                    let successes = f.successes.saturating_add(1);
                    if successes >= self.cfg.half_open_requests {
                        f.closed()
                    } else {
                        Fields {
                            successes,
                            inflight: f.inflight.saturating_sub(1),
                            ..f
                        }
                    }
                }
                _ => return, // OPEN: a request from before it opened changes nothing
            };
            if self.cas(w, next) {
                return;
            }
        }
    }

    /// A finished request failed.
    pub fn record_failure(&self, now_ms: u64) {
        loop {
            let w = self.word().load(Ordering::Acquire);
            let f = Fields::unpack(w);
            let next = match f.state {
                CLOSED => {
                    let failures = f.failures.saturating_add(1);
                    if failures >= self.cfg.failure_threshold {
                        Fields {
                            state: OPEN,
                            failures,
                            successes: 0,
                            inflight: 0,
                            ..f
                        }
                    } else {
                        Fields { failures, ..f }
                    }
                }
                HALF_OPEN => Fields {
                    state: OPEN,
                    successes: 0,
                    inflight: 0,
                    ..f
                },
                _ => return,
            };
            if next.state == OPEN {
                self.opened_at().store(now_ms, Ordering::Release);
            }
            if self.cas(w, next) {
                return;
            }
        }
    }

    /// CLOSED with every counter and `opened_at` zero: the slot as a new breaker finds it.
    pub fn reset(&self) {
        self.opened_at().store(0, Ordering::Release);
        loop {
            let w = self.word().load(Ordering::Acquire);
            if self.cas(w, Fields::unpack(w).closed()) {
                return;
            }
        }
    }

    /// (state, consecutive_failures, half_open_successes, half_open_inflight, opened_at_ms)
    pub fn snapshot(&self) -> (u8, u16, u16, u16, u64) {
        let f = Fields::unpack(self.word().load(Ordering::Acquire));
        (
            f.state,
            f.failures,
            f.successes,
            f.inflight,
            self.opened_at().load(Ordering::Acquire),
        )
    }
}

/// Milliseconds of CLOCK_MONOTONIC: the clock Python's `time.monotonic_ns()` reads on
/// Linux, system-wide, so breakers in several processes agree.
pub fn monotonic_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec out-pointer; CLOCK_MONOTONIC always exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    debug_assert_eq!(rc, 0);
    (ts.tv_sec as u64) * 1000 + (ts.tv_nsec as u64) / 1_000_000
}

#[cfg(test)]
#[path = "breaker_tests.rs"]
mod tests;
