//! aarch64 path: NEON, 16 bytes a step, four steps unrolled.
//!
//! NEON has no movemask; `vshrn_n_u16(.., 4)` narrows a 0x00/0xFF byte mask to four bits
//! per byte in one u64, so the first hit is `trailing_zeros / 4`.

use std::arch::aarch64::*;

use super::{scalar, DelimSet, Plan};

trait NeonProbe: Copy {
    /// 0xFF bytes where `v` holds a delimiter, 0x00 elsewhere.
    unsafe fn hits(self, v: uint8x16_t) -> uint8x16_t;
}

#[derive(Clone, Copy)]
struct Eq1(uint8x16_t);
#[derive(Clone, Copy)]
struct Eq2(uint8x16_t, uint8x16_t);
#[derive(Clone, Copy)]
struct Eq3(uint8x16_t, uint8x16_t, uint8x16_t);
#[derive(Clone, Copy)]
struct Shufti1 {
    lo: uint8x16_t,
    hi: uint8x16_t,
}
#[derive(Clone, Copy)]
struct Shufti2 {
    lo: [uint8x16_t; 2],
    hi: [uint8x16_t; 2],
}

impl NeonProbe for Eq1 {
    #[inline(always)]
    unsafe fn hits(self, v: uint8x16_t) -> uint8x16_t {
        vceqq_u8(v, self.0)
    }
}

impl NeonProbe for Eq2 {
    #[inline(always)]
    unsafe fn hits(self, v: uint8x16_t) -> uint8x16_t {
        vorrq_u8(vceqq_u8(v, self.0), vceqq_u8(v, self.1))
    }
}

impl NeonProbe for Eq3 {
    #[inline(always)]
    unsafe fn hits(self, v: uint8x16_t) -> uint8x16_t {
        vorrq_u8(
            vorrq_u8(vceqq_u8(v, self.0), vceqq_u8(v, self.1)),
            vceqq_u8(v, self.2),
        )
    }
}

#[inline(always)]
unsafe fn nibbles(v: uint8x16_t) -> (uint8x16_t, uint8x16_t) {
    (vandq_u8(v, vdupq_n_u8(0x0f)), vshrq_n_u8::<4>(v))
}

impl NeonProbe for Shufti1 {
    #[inline(always)]
    unsafe fn hits(self, v: uint8x16_t) -> uint8x16_t {
        let (lo, hi) = nibbles(v);
        vtstq_u8(vqtbl1q_u8(self.lo, lo), vqtbl1q_u8(self.hi, hi))
    }
}

impl NeonProbe for Shufti2 {
    #[inline(always)]
    unsafe fn hits(self, v: uint8x16_t) -> uint8x16_t {
        let (lo, hi) = nibbles(v);
        vorrq_u8(
            vtstq_u8(vqtbl1q_u8(self.lo[0], lo), vqtbl1q_u8(self.hi[0], hi)),
            vtstq_u8(vqtbl1q_u8(self.lo[1], lo), vqtbl1q_u8(self.hi[1], hi)),
        )
    }
}

#[inline(always)]
unsafe fn ld(ptr: *const u8, i: usize) -> uint8x16_t {
    vld1q_u8(ptr.add(i))
}

/// Four bits per byte of a 0x00/0xFF mask.
#[inline(always)]
unsafe fn nibble_mask(h: uint8x16_t) -> u64 {
    vget_lane_u64::<0>(vreinterpret_u64_u8(vshrn_n_u16::<4>(vreinterpretq_u16_u8(
        h,
    ))))
}

/// # Safety
/// The CPU must support NEON.
#[target_feature(enable = "neon")]
pub unsafe fn find_neon(set: &DelimSet, hay: &[u8]) -> Option<usize> {
    if hay.len() < 16 {
        return scalar::find(set, hay);
    }
    match *set.plan() {
        Plan::Eq1(a) => scan(hay, Eq1(vdupq_n_u8(a))),
        Plan::Eq2(a, b) => scan(hay, Eq2(vdupq_n_u8(a), vdupq_n_u8(b))),
        Plan::Eq3(a, b, c) => scan(hay, Eq3(vdupq_n_u8(a), vdupq_n_u8(b), vdupq_n_u8(c))),
        Plan::Shufti {
            groups: 1,
            ref lo,
            ref hi,
        } => scan(
            hay,
            Shufti1 {
                lo: vld1q_u8(lo[0].as_ptr()),
                hi: vld1q_u8(hi[0].as_ptr()),
            },
        ),
        Plan::Shufti { ref lo, ref hi, .. } => scan(
            hay,
            Shufti2 {
                lo: [vld1q_u8(lo[0].as_ptr()), vld1q_u8(lo[1].as_ptr())],
                hi: [vld1q_u8(hi[0].as_ptr()), vld1q_u8(hi[1].as_ptr())],
            },
        ),
    }
}

/// Requires `hay.len() >= 16`.
#[inline(always)]
unsafe fn scan<P: NeonProbe>(hay: &[u8], probe: P) -> Option<usize> {
    let len = hay.len();
    let ptr = hay.as_ptr();
    let mut i = 0;
    while i + 64 <= len {
        let a = probe.hits(ld(ptr, i));
        let b = probe.hits(ld(ptr, i + 16));
        let c = probe.hits(ld(ptr, i + 32));
        let d = probe.hits(ld(ptr, i + 48));
        if vmaxvq_u8(vorrq_u8(vorrq_u8(a, b), vorrq_u8(c, d))) != 0 {
            for (k, h) in [a, b, c, d].into_iter().enumerate() {
                let m = nibble_mask(h);
                if m != 0 {
                    return Some(i + 16 * k + (m.trailing_zeros() / 4) as usize);
                }
            }
        }
        i += 64;
    }
    while i + 16 <= len {
        let m = nibble_mask(probe.hits(ld(ptr, i)));
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 4) as usize);
        }
        i += 16;
    }
    if i < len {
        // The last block overlaps bytes already searched: shift their nibbles out.
        let last = len - 16;
        let m = nibble_mask(probe.hits(ld(ptr, last))) >> (4 * (i - last));
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 4) as usize);
        }
    }
    None
}
