//! Delimiter scan: the first byte of a haystack that belongs to a small set (1 to 16 bytes).
//!
//! The search itself is ours, one implementation per instruction set: AVX2 (x86_64),
//! SSE2 (every x86_64), NEON (aarch64) and a portable scalar loop. [`SimdLevel::detect`]
//! picks the best one the running CPU supports (`is_x86_feature_detected!`), and
//! [`Finder`] binds a prepared [`DelimSet`] to one level so that the per-call work is a
//! single `match`.

mod json_span;
#[cfg(target_arch = "aarch64")]
mod neon;
mod plan;
mod scalar;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use json_span::{JsonSpanFinder, SpanError};
pub use plan::{DelimError, DelimSet, Plan, MAX_DELIMS};

/// The instruction set a [`Finder`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SimdLevel {
    Scalar,
    Sse2,
    Neon,
    Avx2,
}

impl SimdLevel {
    /// The name `simd_level()` reports.
    pub fn name(self) -> &'static str {
        match self {
            SimdLevel::Scalar => "scalar",
            SimdLevel::Sse2 => "sse2",
            SimdLevel::Neon => "neon",
            SimdLevel::Avx2 => "avx2",
        }
    }

    /// The best level this CPU runs.
    pub fn detect() -> SimdLevel {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                return SimdLevel::Avx2;
            }
            // SSE2 is part of the x86_64 baseline.
            SimdLevel::Sse2
        }
        #[cfg(target_arch = "aarch64")]
        {
            if std::arch::is_aarch64_feature_detected!("neon") {
                return SimdLevel::Neon;
            }
            SimdLevel::Scalar
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            SimdLevel::Scalar
        }
    }

    /// `detected`, lowered by an override (the `LUNAROUTE_SIMD` variable): `scalar` forces
    /// the portable path, `sse2` the SSE2 path where the CPU has it. An override never
    /// raises the level above what was detected; an unknown value changes nothing.
    pub fn with_override(detected: SimdLevel, requested: Option<&str>) -> SimdLevel {
        match requested.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            Some("scalar") => SimdLevel::Scalar,
            Some("sse2") if detected >= SimdLevel::Sse2 && detected != SimdLevel::Neon => {
                SimdLevel::Sse2
            }
            _ => detected,
        }
    }

    /// Every level this CPU can run (tests compare them all against the scalar path).
    pub fn available() -> Vec<SimdLevel> {
        let best = SimdLevel::detect();
        let mut levels = vec![SimdLevel::Scalar];
        #[cfg(target_arch = "x86_64")]
        {
            levels.push(SimdLevel::Sse2);
        }
        if best > SimdLevel::Sse2 {
            levels.push(best);
        }
        levels
    }
}

/// A delimiter set bound to the instruction set that searches for it.
#[derive(Clone, Debug)]
pub struct Finder {
    set: DelimSet,
    level: SimdLevel,
}

impl Finder {
    /// Binds `set` to `level`. A level the CPU lacks is lowered to one it has, so a
    /// `Finder` is always safe to run.
    pub fn new(set: DelimSet, level: SimdLevel) -> Finder {
        let level = if level > SimdLevel::detect() {
            SimdLevel::detect()
        } else {
            level
        };
        #[cfg(not(target_arch = "x86_64"))]
        let level = if matches!(level, SimdLevel::Sse2 | SimdLevel::Avx2) {
            SimdLevel::Scalar
        } else {
            level
        };
        Finder { set, level }
    }

    pub fn level(&self) -> SimdLevel {
        self.level
    }

    pub fn set(&self) -> &DelimSet {
        &self.set
    }

    /// Index of the first byte of `hay` in the set.
    #[inline]
    pub fn find(&self, hay: &[u8]) -> Option<usize> {
        match self.level {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Finder::new` only keeps Avx2 when the CPU reported it.
            SimdLevel::Avx2 => unsafe { x86::find_avx2(&self.set, hay) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: SSE2 is part of the x86_64 baseline.
            SimdLevel::Sse2 => unsafe { x86::find_sse2(&self.set, hay) },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: `Finder::new` only keeps Neon when the CPU reported it.
            SimdLevel::Neon => unsafe { neon::find_neon(&self.set, hay) },
            _ => scalar::find(&self.set, hay),
        }
    }
}

#[cfg(test)]
mod tests;
