use super::*;

/// xorshift64*: deterministic data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn byte(&mut self) -> u8 {
        (self.next() >> 56) as u8
    }
}

fn naive(hay: &[u8], delims: &[u8]) -> Option<usize> {
    hay.iter().position(|b| delims.contains(b))
}

fn delim_sets() -> Vec<Vec<u8>> {
    let mut sets: Vec<Vec<u8>> = vec![
        b"\n".to_vec(),
        b"\r\n".to_vec(),
        b"\"\\\n".to_vec(),
        b"\x00".to_vec(),
        b"\xff\x80".to_vec(),
        b"{}[],:\"\\".to_vec(),
        (0u8..16).map(|i| i * 16 + 1).collect(), // 16 high nibbles: two table groups
        (0u8..16).collect(),                     // one high nibble, 16 low nibbles
        b"aaaaaaaaaaaaaaab".to_vec(),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for n in 1..=16 {
        sets.push((0..n).map(|_| rng.byte()).collect());
    }
    sets
}

#[test]
fn every_level_agrees_with_naive_search() {
    let mut rng = Rng(42);
    for delims in delim_sets() {
        let set = DelimSet::new(&delims).unwrap();
        for level in SimdLevel::available() {
            let finder = Finder::new(set.clone(), level);
            assert_eq!(finder.level(), level);
            for len in [
                0usize, 1, 15, 16, 17, 31, 32, 33, 63, 64, 127, 128, 129, 200, 700,
            ] {
                // a haystack free of delimiters, then one or two planted at every position
                let filler: Vec<u8> = (0u8..=255).filter(|b| !delims.contains(b)).collect();
                let mut hay: Vec<u8> = (0..len)
                    .map(|_| filler[rng.byte() as usize % filler.len()])
                    .collect();
                assert_eq!(finder.find(&hay), None, "level {level:?} len {len}");
                for pos in 0..len {
                    let saved = hay[pos];
                    hay[pos] = delims[rng.byte() as usize % delims.len()];
                    assert_eq!(
                        finder.find(&hay),
                        Some(pos),
                        "{level:?} {delims:?} {len} {pos}"
                    );
                    // a second, later delimiter must not win
                    if pos + 1 < len {
                        let later = pos + 1 + rng.byte() as usize % (len - pos - 1).max(1);
                        let saved2 = hay[later.min(len - 1)];
                        hay[later.min(len - 1)] = delims[0];
                        assert_eq!(finder.find(&hay), Some(pos));
                        hay[later.min(len - 1)] = saved2;
                    }
                    hay[pos] = saved;
                }
            }
        }
    }
}

#[test]
fn random_haystacks_at_every_alignment() {
    let mut rng = Rng(7);
    let data: Vec<u8> = (0..4096).map(|_| rng.byte()).collect();
    for delims in delim_sets() {
        let set = DelimSet::new(&delims).unwrap();
        for level in SimdLevel::available() {
            let finder = Finder::new(set.clone(), level);
            for start in 0..70 {
                for end in [start, start + 5, start + 40, start + 300, 4096] {
                    let hay = &data[start..end.min(4096)];
                    assert_eq!(
                        finder.find(hay),
                        naive(hay, &delims),
                        "{level:?} {delims:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn override_only_lowers_the_level() {
    let best = SimdLevel::detect();
    assert_eq!(
        SimdLevel::with_override(best, Some("scalar")),
        SimdLevel::Scalar
    );
    assert_eq!(
        SimdLevel::with_override(best, Some(" SCALAR ")),
        SimdLevel::Scalar
    );
    assert_eq!(SimdLevel::with_override(best, None), best);
    assert_eq!(SimdLevel::with_override(best, Some("avx512")), best);
    assert_eq!(
        SimdLevel::with_override(SimdLevel::Scalar, Some("sse2")),
        SimdLevel::Scalar
    );
    #[cfg(target_arch = "x86_64")]
    assert_eq!(
        SimdLevel::with_override(best, Some("sse2")),
        SimdLevel::Sse2
    );
}

#[test]
fn level_names() {
    let names: Vec<&str> = [
        SimdLevel::Avx2,
        SimdLevel::Sse2,
        SimdLevel::Neon,
        SimdLevel::Scalar,
    ]
    .iter()
    .map(|l| l.name())
    .collect();
    assert_eq!(names, ["avx2", "sse2", "neon", "scalar"]);
}

#[test]
fn large_classes_on_every_level() {
    let mut rng = Rng(11);
    let data: Vec<u8> = (0..3000).map(|_| rng.byte()).collect();
    for modulus in [5u8, 7, 13, 29, 61] {
        let mut table = [false; 256];
        for b in 0..=255u8 {
            table[b as usize] = b % modulus == 1;
        }
        let set = DelimSet::from_table(&table).unwrap();
        for level in SimdLevel::available() {
            let finder = Finder::new(set.clone(), level);
            for start in 0..40 {
                let hay = &data[start..];
                let want = hay.iter().position(|&b| table[b as usize]);
                assert_eq!(finder.find(hay), want, "{level:?} mod {modulus}");
            }
        }
    }
}
