//! Multi-pattern matcher: literals through one Aho-Corasick automaton (leftmost-longest,
//! optional ASCII case folding), regexes each on their own, merged greedily.
//! `literals`, `regexes` and `first_bytes` hold the search strategies; this module the
//! contract's merge.
//!
//! Pattern ids: literals `0..L` in order, regexes `L..L+R`. All candidates are sorted by
//! `(start, longest first, lowest id)` and taken left to right, skipping any that starts
//! before the end of the last one taken.

mod first_bytes;
mod literals;
mod regexes;

use literals::Literals;
use regexes::PatternRegex;

use crate::core::scan::SimdLevel;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub id: u32,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub enum PatternError {
    EmptyLiteral {
        index: usize,
    },
    BadRegex {
        id: usize,
        pattern: String,
        reason: String,
    },
    Automaton(String),
    TooMany,
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatternError::EmptyLiteral { index } => write!(f, "literal {index} is empty"),
            PatternError::BadRegex {
                id,
                pattern,
                reason,
            } => {
                write!(f, "regex {id} ({pattern:?}) does not compile: {reason}")
            }
            PatternError::Automaton(reason) => {
                write!(f, "cannot build the literal automaton: {reason}")
            }
            PatternError::TooMany => f.write_str("too many patterns"),
        }
    }
}

impl std::error::Error for PatternError {}

pub struct Matcher {
    literals: Option<Literals>,
    literal_count: usize,
    regexes: Vec<PatternRegex>,
}

impl Matcher {
    pub fn new<L: AsRef<str>, R: AsRef<str>>(
        literals: &[L],
        regexes: &[R],
        case_insensitive: bool,
        level: SimdLevel,
    ) -> Result<Matcher, PatternError> {
        if literals.len() + regexes.len() > u32::MAX as usize {
            return Err(PatternError::TooMany);
        }
        if let Some(index) = literals.iter().position(|l| l.as_ref().is_empty()) {
            return Err(PatternError::EmptyLiteral { index });
        }
        let automaton = if literals.is_empty() {
            None
        } else {
            Some(Literals::new(literals, case_insensitive).map_err(PatternError::Automaton)?)
        };
        let compiled = regexes
            .iter()
            .enumerate()
            .map(|(i, r)| {
                PatternRegex::new(r.as_ref(), level).map_err(|reason| PatternError::BadRegex {
                    id: literals.len() + i,
                    pattern: r.as_ref().to_owned(),
                    reason,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Matcher {
            literals: automaton,
            literal_count: literals.len(),
            regexes: compiled,
        })
    }

    pub fn pattern_count(&self) -> usize {
        self.literal_count + self.regexes.len()
    }

    /// The merged matches over `text`, byte offsets, sorted by start.
    pub fn find_all(&self, text: &str) -> Vec<Match> {
        let mut candidates: Vec<Match> = Vec::new();
        if let Some(lits) = &self.literals {
            lits.find_all(text, &mut candidates);
        }
        let literals_only = candidates.len();
        for (i, re) in self.regexes.iter().enumerate() {
            re.find_all(text, (self.literal_count + i) as u32, &mut candidates);
        }
        if candidates.len() == literals_only {
            // Aho-Corasick's non-overlapping leftmost matches are already the answer.
            return candidates;
        }
        candidates.sort_unstable_by_key(|m| (m.start, std::cmp::Reverse(m.end - m.start), m.id));
        let mut taken = 0;
        let mut last_end = 0;
        for k in 0..candidates.len() {
            let m = candidates[k];
            if m.start >= last_end {
                candidates[taken] = m;
                taken += 1;
                last_end = m.end;
            }
        }
        candidates.truncate(taken);
        candidates
    }
}

/// Rewrites byte offsets into `text` as code-point offsets, in place. `matches` must be
/// sorted and non-overlapping, so one forward walk counts every character once.
pub fn to_char_offsets(text: &str, matches: &mut [Match]) {
    let bytes = text.as_bytes();
    let mut byte_pos = 0;
    let mut char_pos = 0;
    let mut advance = |to: usize| -> usize {
        char_pos += count_chars(&bytes[byte_pos..to]);
        byte_pos = to;
        char_pos
    };
    for m in matches.iter_mut() {
        m.start = advance(m.start);
        m.end = advance(m.end);
    }
}

/// Code points in UTF-8 bytes: every byte that is not a continuation byte (10xxxxxx).
#[inline]
pub fn count_chars(bytes: &[u8]) -> usize {
    bytes.len() - count_continuation_bytes(bytes)
}

/// Bytes 0x80..=0xBF, 16 at a time: a continuation byte is, as i8, below -64. The
/// per-lane counts add up in a byte vector for at most 255 blocks, then get summed
/// with `psadbw`, so the loop is three instructions a block.
#[cfg(target_arch = "x86_64")]
fn count_continuation_bytes(bytes: &[u8]) -> usize {
    use std::arch::x86_64::*;
    let mut blocks = bytes.chunks_exact(16);
    let mut total = 0usize;
    // SAFETY: SSE2 is part of the x86_64 baseline; each load reads one whole 16-byte block.
    unsafe {
        let limit = _mm_set1_epi8(-64);
        let zero = _mm_setzero_si128();
        loop {
            let mut acc = _mm_setzero_si128();
            let mut n = 0;
            for block in blocks.by_ref().take(255) {
                let v = _mm_loadu_si128(block.as_ptr().cast());
                acc = _mm_sub_epi8(acc, _mm_cmplt_epi8(v, limit));
                n += 1;
            }
            let sums = _mm_sad_epu8(acc, zero);
            total += (_mm_cvtsi128_si64(sums) + _mm_extract_epi16::<4>(sums) as i64) as usize;
            if n < 255 {
                break;
            }
        }
    }
    total
        + blocks
            .remainder()
            .iter()
            .filter(|&&b| (b as i8) < -64)
            .count()
}

#[cfg(not(target_arch = "x86_64"))]
fn count_continuation_bytes(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) < -64).count()
}

#[cfg(test)]
mod tests;
