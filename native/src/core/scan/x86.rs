//! x86_64 paths: AVX2 (32 bytes a step, four steps unrolled) and SSE2 (16 bytes a step).
//!
//! A probe turns a vector of haystack bytes into a vector whose byte is non-zero exactly
//! where the haystack byte is a delimiter; the generic loops below only OR, test and
//! movemask those. The probe methods are `#[inline(always)]` so they melt into the
//! `#[target_feature]` entry points, the pattern the memchr crate uses.

use std::arch::x86_64::*;

use super::{scalar, DelimSet, Plan};

// ------------------------------------------------------------------ AVX2

trait Avx2Probe: Copy {
    /// Non-zero bytes where `v` holds a delimiter.
    unsafe fn hits(self, v: __m256i) -> __m256i;
    /// One bit per byte of `hits(v)`.
    unsafe fn mask(self, h: __m256i) -> u32;
}

#[derive(Clone, Copy)]
struct Avx2Eq1(__m256i);
#[derive(Clone, Copy)]
struct Avx2Eq2(__m256i, __m256i);
#[derive(Clone, Copy)]
struct Avx2Eq3(__m256i, __m256i, __m256i);
#[derive(Clone, Copy)]
struct Avx2Shufti1 {
    lo: __m256i,
    hi: __m256i,
}
#[derive(Clone, Copy)]
struct Avx2Shufti2 {
    lo: [__m256i; 2],
    hi: [__m256i; 2],
}

impl Avx2Probe for Avx2Eq1 {
    #[inline(always)]
    unsafe fn hits(self, v: __m256i) -> __m256i {
        _mm256_cmpeq_epi8(v, self.0)
    }
    #[inline(always)]
    unsafe fn mask(self, h: __m256i) -> u32 {
        _mm256_movemask_epi8(h) as u32
    }
}

impl Avx2Probe for Avx2Eq2 {
    #[inline(always)]
    unsafe fn hits(self, v: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_cmpeq_epi8(v, self.0), _mm256_cmpeq_epi8(v, self.1))
    }
    #[inline(always)]
    unsafe fn mask(self, h: __m256i) -> u32 {
        _mm256_movemask_epi8(h) as u32
    }
}

impl Avx2Probe for Avx2Eq3 {
    #[inline(always)]
    unsafe fn hits(self, v: __m256i) -> __m256i {
        _mm256_or_si256(
            _mm256_or_si256(_mm256_cmpeq_epi8(v, self.0), _mm256_cmpeq_epi8(v, self.1)),
            _mm256_cmpeq_epi8(v, self.2),
        )
    }
    #[inline(always)]
    unsafe fn mask(self, h: __m256i) -> u32 {
        _mm256_movemask_epi8(h) as u32
    }
}

#[inline(always)]
unsafe fn avx2_nibbles(v: __m256i) -> (__m256i, __m256i) {
    let low4 = _mm256_set1_epi8(0x0f);
    (
        _mm256_and_si256(v, low4),
        _mm256_and_si256(_mm256_srli_epi16(v, 4), low4),
    )
}

#[inline(always)]
unsafe fn avx2_nonzero_mask(h: __m256i) -> u32 {
    !(_mm256_movemask_epi8(_mm256_cmpeq_epi8(h, _mm256_setzero_si256())) as u32)
}

impl Avx2Probe for Avx2Shufti1 {
    #[inline(always)]
    unsafe fn hits(self, v: __m256i) -> __m256i {
        let (lo, hi) = avx2_nibbles(v);
        _mm256_and_si256(
            _mm256_shuffle_epi8(self.lo, lo),
            _mm256_shuffle_epi8(self.hi, hi),
        )
    }
    #[inline(always)]
    unsafe fn mask(self, h: __m256i) -> u32 {
        avx2_nonzero_mask(h)
    }
}

impl Avx2Probe for Avx2Shufti2 {
    #[inline(always)]
    unsafe fn hits(self, v: __m256i) -> __m256i {
        let (lo, hi) = avx2_nibbles(v);
        let a = _mm256_and_si256(
            _mm256_shuffle_epi8(self.lo[0], lo),
            _mm256_shuffle_epi8(self.hi[0], hi),
        );
        let b = _mm256_and_si256(
            _mm256_shuffle_epi8(self.lo[1], lo),
            _mm256_shuffle_epi8(self.hi[1], hi),
        );
        _mm256_or_si256(a, b)
    }
    #[inline(always)]
    unsafe fn mask(self, h: __m256i) -> u32 {
        avx2_nonzero_mask(h)
    }
}

#[inline(always)]
unsafe fn avx2_table(t: &[u8; 16]) -> __m256i {
    // vpshufb looks up within each 128-bit lane: the table goes in both lanes.
    _mm256_broadcastsi128_si256(_mm_loadu_si128(t.as_ptr() as *const __m128i))
}

/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn find_avx2(set: &DelimSet, hay: &[u8]) -> Option<usize> {
    if hay.len() < 32 {
        return scalar::find(set, hay);
    }
    match *set.plan() {
        Plan::Eq1(a) => scan_avx2(hay, Avx2Eq1(_mm256_set1_epi8(a as i8))),
        Plan::Eq2(a, b) => scan_avx2(
            hay,
            Avx2Eq2(_mm256_set1_epi8(a as i8), _mm256_set1_epi8(b as i8)),
        ),
        Plan::Eq3(a, b, c) => scan_avx2(
            hay,
            Avx2Eq3(
                _mm256_set1_epi8(a as i8),
                _mm256_set1_epi8(b as i8),
                _mm256_set1_epi8(c as i8),
            ),
        ),
        Plan::Shufti {
            groups: 1,
            ref lo,
            ref hi,
        } => scan_avx2(
            hay,
            Avx2Shufti1 {
                lo: avx2_table(&lo[0]),
                hi: avx2_table(&hi[0]),
            },
        ),
        Plan::Shufti { ref lo, ref hi, .. } => scan_avx2(
            hay,
            Avx2Shufti2 {
                lo: [avx2_table(&lo[0]), avx2_table(&lo[1])],
                hi: [avx2_table(&hi[0]), avx2_table(&hi[1])],
            },
        ),
    }
}

// Loads and masks are free functions, not closures: a closure would not inherit the
// caller's target features and the intrinsics inside it would not inline.
#[inline(always)]
unsafe fn ld256(ptr: *const u8, i: usize) -> __m256i {
    _mm256_loadu_si256(ptr.add(i) as *const __m256i)
}

/// Requires `hay.len() >= 32`.
#[inline(always)]
unsafe fn scan_avx2<P: Avx2Probe>(hay: &[u8], probe: P) -> Option<usize> {
    let len = hay.len();
    let ptr = hay.as_ptr();
    let mut i = 0;
    while i + 128 <= len {
        let a = probe.hits(ld256(ptr, i));
        let b = probe.hits(ld256(ptr, i + 32));
        let c = probe.hits(ld256(ptr, i + 64));
        let d = probe.hits(ld256(ptr, i + 96));
        let any = _mm256_or_si256(_mm256_or_si256(a, b), _mm256_or_si256(c, d));
        if _mm256_testz_si256(any, any) == 0 {
            let ab = probe.mask(a) as u64 | (probe.mask(b) as u64) << 32;
            if ab != 0 {
                return Some(i + ab.trailing_zeros() as usize);
            }
            let cd = probe.mask(c) as u64 | (probe.mask(d) as u64) << 32;
            return Some(i + 64 + cd.trailing_zeros() as usize);
        }
        i += 128;
    }
    while i + 32 <= len {
        let m = probe.mask(probe.hits(ld256(ptr, i)));
        if m != 0 {
            return Some(i + m.trailing_zeros() as usize);
        }
        i += 32;
    }
    if i < len {
        // The last block overlaps bytes already searched: shift their bits out.
        let last = len - 32;
        let m = probe.mask(probe.hits(ld256(ptr, last))) >> (i - last);
        if m != 0 {
            return Some(i + m.trailing_zeros() as usize);
        }
    }
    None
}

// ------------------------------------------------------------------ SSE2

trait Sse2Probe: Copy {
    unsafe fn hits(self, v: __m128i) -> __m128i;
}

#[derive(Clone, Copy)]
struct Sse2Eq1(__m128i);
#[derive(Clone, Copy)]
struct Sse2Eq2(__m128i, __m128i);
#[derive(Clone, Copy)]
struct Sse2Eq3(__m128i, __m128i, __m128i);
/// SSE2 has no byte shuffle: larger sets compare against every delimiter.
#[derive(Clone, Copy)]
struct Sse2EqMany {
    needles: [__m128i; super::MAX_DELIMS],
    count: usize,
}

impl Sse2Probe for Sse2Eq1 {
    #[inline(always)]
    unsafe fn hits(self, v: __m128i) -> __m128i {
        _mm_cmpeq_epi8(v, self.0)
    }
}

impl Sse2Probe for Sse2Eq2 {
    #[inline(always)]
    unsafe fn hits(self, v: __m128i) -> __m128i {
        _mm_or_si128(_mm_cmpeq_epi8(v, self.0), _mm_cmpeq_epi8(v, self.1))
    }
}

impl Sse2Probe for Sse2Eq3 {
    #[inline(always)]
    unsafe fn hits(self, v: __m128i) -> __m128i {
        _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, self.0), _mm_cmpeq_epi8(v, self.1)),
            _mm_cmpeq_epi8(v, self.2),
        )
    }
}

impl Sse2Probe for Sse2EqMany {
    #[inline(always)]
    unsafe fn hits(self, v: __m128i) -> __m128i {
        let mut acc = _mm_setzero_si128();
        for n in &self.needles[..self.count] {
            acc = _mm_or_si128(acc, _mm_cmpeq_epi8(v, *n));
        }
        acc
    }
}

/// # Safety
/// The CPU must support SSE2 (every x86_64 CPU does).
#[target_feature(enable = "sse2")]
pub unsafe fn find_sse2(set: &DelimSet, hay: &[u8]) -> Option<usize> {
    if hay.len() < 16 {
        return scalar::find(set, hay);
    }
    match *set.plan() {
        Plan::Eq1(a) => scan_sse2(hay, Sse2Eq1(_mm_set1_epi8(a as i8))),
        Plan::Eq2(a, b) => scan_sse2(hay, Sse2Eq2(_mm_set1_epi8(a as i8), _mm_set1_epi8(b as i8))),
        Plan::Eq3(a, b, c) => scan_sse2(
            hay,
            Sse2Eq3(
                _mm_set1_epi8(a as i8),
                _mm_set1_epi8(b as i8),
                _mm_set1_epi8(c as i8),
            ),
        ),
        // SSE2 has no byte shuffle: a class too big to compare byte by byte is looked up.
        Plan::Shufti { .. } if set.len() > super::MAX_DELIMS => scalar::find(set, hay),
        Plan::Shufti { .. } => {
            let mut needles = [_mm_setzero_si128(); super::MAX_DELIMS];
            let distinct = set.distinct();
            for (n, &b) in needles.iter_mut().zip(distinct) {
                *n = _mm_set1_epi8(b as i8);
            }
            scan_sse2(
                hay,
                Sse2EqMany {
                    needles,
                    count: distinct.len(),
                },
            )
        }
    }
}

#[inline(always)]
unsafe fn ld128(ptr: *const u8, i: usize) -> __m128i {
    _mm_loadu_si128(ptr.add(i) as *const __m128i)
}

#[inline(always)]
unsafe fn mask128(h: __m128i) -> u32 {
    _mm_movemask_epi8(h) as u32
}

/// Requires `hay.len() >= 16`.
#[inline(always)]
unsafe fn scan_sse2<P: Sse2Probe>(hay: &[u8], probe: P) -> Option<usize> {
    let len = hay.len();
    let ptr = hay.as_ptr();
    let mut i = 0;
    while i + 64 <= len {
        let a = probe.hits(ld128(ptr, i));
        let b = probe.hits(ld128(ptr, i + 16));
        let c = probe.hits(ld128(ptr, i + 32));
        let d = probe.hits(ld128(ptr, i + 48));
        let any = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
        if mask128(any) != 0 {
            let m = mask128(a) as u64
                | (mask128(b) as u64) << 16
                | (mask128(c) as u64) << 32
                | (mask128(d) as u64) << 48;
            return Some(i + m.trailing_zeros() as usize);
        }
        i += 64;
    }
    while i + 16 <= len {
        let m = mask128(probe.hits(ld128(ptr, i)));
        if m != 0 {
            return Some(i + m.trailing_zeros() as usize);
        }
        i += 16;
    }
    if i < len {
        let last = len - 16;
        let m = mask128(probe.hits(ld128(ptr, last))) >> (i - last);
        if m != 0 {
            return Some(i + m.trailing_zeros() as usize);
        }
    }
    None
}
