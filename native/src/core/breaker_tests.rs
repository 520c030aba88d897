use super::*;
use std::sync::Arc;

fn cfg(threshold: i128, timeout: i128, half: i128) -> Config {
    Config::new(threshold, timeout, half).unwrap()
}

#[test]
fn config_ranges() {
    assert_eq!(Config::new(0, 1, 1), Err(ConfigError::FailureThreshold));
    assert_eq!(Config::new(65536, 1, 1), Err(ConfigError::FailureThreshold));
    assert_eq!(Config::new(1, -1, 1), Err(ConfigError::ResetTimeout));
    assert_eq!(
        Config::new(1, (1 << 62) + 1, 1),
        Err(ConfigError::ResetTimeout)
    );
    assert_eq!(Config::new(1, 1, 0), Err(ConfigError::HalfOpenRequests));
    assert!(Config::new(65535, 1 << 62, 65535).is_ok());
}

#[test]
fn pack_roundtrip_keeps_foreign_bits() {
    let w = 0xAB00_1234_5678_9A02u64;
    assert_eq!(Fields::unpack(w).pack(), w);
    let f = Fields::unpack(w);
    assert_eq!(
        (f.state, f.failures, f.successes, f.inflight),
        (2, 0x789A, 0x3456, 0x12)
    );
}

#[test]
fn closed_to_open_to_half_open_to_closed() {
    let b = Breaker::owned(cfg(3, 1000, 2));
    assert!(b.allow(0));
    b.record_failure(10);
    b.record_failure(11);
    b.record_success(12); // resets the consecutive count
    assert_eq!(b.snapshot(), (CLOSED, 0, 0, 0, 0));
    for t in 20..23 {
        b.record_failure(t);
    }
    assert_eq!(b.snapshot(), (OPEN, 3, 0, 0, 22));
    assert!(!b.allow(1021));
    assert_eq!(b.state(1021), OPEN);
    // late results of requests that started before it opened change nothing
    b.record_success(500);
    b.record_failure(500);
    assert_eq!(b.snapshot(), (OPEN, 3, 0, 0, 22));
    assert_eq!(b.state(1022), HALF_OPEN); // promotion without taking a slot
    assert_eq!(b.snapshot(), (HALF_OPEN, 3, 0, 0, 22));
    assert!(b.allow(1022));
    assert!(b.allow(1022));
    assert!(!b.allow(1022)); // both trial slots taken
    b.record_success(1023);
    assert_eq!(b.snapshot(), (HALF_OPEN, 3, 1, 1, 22));
    b.record_success(1024);
    assert_eq!(b.snapshot(), (CLOSED, 0, 0, 0, 22));
}

#[test]
fn allow_promotes_and_takes_a_slot() {
    let b = Breaker::owned(cfg(1, 0, 1));
    b.record_failure(5);
    assert_eq!(b.snapshot(), (OPEN, 1, 0, 0, 5));
    assert!(b.allow(5)); // timeout 0: promoted at once
    assert_eq!(b.snapshot(), (HALF_OPEN, 1, 0, 1, 5));
    assert!(!b.allow(5));
    b.record_failure(9); // a failed trial re-opens
    assert_eq!(b.snapshot(), (OPEN, 1, 0, 0, 9));
}

#[test]
fn clock_before_opened_at_is_not_elapsed() {
    let b = Breaker::owned(cfg(1, 0, 1));
    b.record_failure(100);
    assert!(!b.allow(99));
    assert_eq!(b.state(99), OPEN);
}

#[test]
fn inflight_never_below_zero_and_failures_saturate() {
    let b = Breaker::owned(cfg(65535, 10, 3));
    for _ in 0..70000 {
        b.record_failure(0);
    }
    assert_eq!(b.snapshot().1, 65535);
    assert_eq!(b.snapshot().0, OPEN);
    assert_eq!(b.state(10), HALF_OPEN);
    b.record_success(10);
    assert_eq!(b.snapshot(), (HALF_OPEN, 65535, 1, 0, 0));
}

#[test]
fn reset_zeroes_everything() {
    let b = Breaker::owned(cfg(1, 10, 1));
    b.record_failure(77);
    b.reset();
    assert_eq!(b.snapshot(), (CLOSED, 0, 0, 0, 0));
}

#[test]
fn shared_slot_is_seen_by_every_breaker_on_it() {
    let mut mem = vec![0u64; 16]; // 128 bytes, 8-aligned: two slots
    let base = NonNull::new(mem.as_mut_ptr() as *mut u8).unwrap();
    let second = NonNull::new(unsafe { base.as_ptr().add(64) }).unwrap();
    let a = unsafe { Breaker::shared(cfg(2, 100, 1), second) };
    let b = unsafe { Breaker::shared(cfg(2, 100, 1), second) };
    let other = unsafe { Breaker::shared(cfg(2, 100, 1), base) };
    a.record_failure(1);
    b.record_failure(2);
    assert_eq!(a.snapshot(), (OPEN, 2, 0, 0, 2));
    assert_eq!(other.snapshot(), (CLOSED, 0, 0, 0, 0));
    drop((a, b, other));
    assert_eq!(mem[8], u64::from(OPEN) | 2 << 8);
    assert_eq!(mem[9], 2);
    assert!(mem[10..].iter().all(|&w| w == 0));
}

#[test]
fn concurrent_trials_never_exceed_the_limit() {
    let b = Arc::new(Breaker::owned(cfg(1, 0, 50)));
    b.record_failure(1);
    let granted: usize = (0..4)
        .map(|_| {
            let b = Arc::clone(&b);
            std::thread::spawn(move || (0..1000).filter(|_| b.allow(1)).count())
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .sum();
    assert_eq!(granted, 50);
    assert_eq!(b.snapshot().3, 50);
}

#[test]
fn monotonic_clock_moves_forward() {
    let a = monotonic_ms();
    std::thread::sleep(std::time::Duration::from_millis(3));
    assert!(monotonic_ms() >= a + 2);
}

#[test]
fn unknown_state_bytes_are_left_alone() {
    let mut mem = vec![0u64; 8];
    mem[0] = 7 | 3 << 8;
    let b = unsafe {
        Breaker::shared(
            cfg(1, 0, 1),
            NonNull::new(mem.as_mut_ptr() as *mut u8).unwrap(),
        )
    };
    assert!(b.allow(0));
    b.record_failure(1);
    b.record_success(1);
    assert_eq!(b.state(1), 7);
    assert_eq!(b.snapshot(), (7, 3, 0, 0, 0));
}
