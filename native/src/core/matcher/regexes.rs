//! One regex, searched left to right for non-overlapping, non-empty matches.
//!
//! The engine is `regex`'s own (`regex_automata::meta`, configured as `regex::Regex`
//! configures it). When the regex has no fast literal prefilter of its own (a credit-card
//! or phone-number pattern begins with `\d`, not a literal), scanning every byte with the
//! lazy DFA is the slow part. Such a regex, if the bytes that can start a match are few
//! (see [`super::first_bytes`]), is searched by jumping with our SIMD byte-class scan to
//! each candidate byte and trying an anchored match there. Leftmost-first search is
//! exactly "the first position with an anchored match, and that match", so the results
//! are the same; only the cost changes. When candidates turn out dense in a text, the
//! rest of it gets the plain search.

use regex_automata::meta;
use regex_automata::util::prefilter::Prefilter;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind};

use super::first_bytes::first_bytes;
use super::Match;
use crate::core::scan::{DelimSet, Finder, SimdLevel};

/// A first-byte set larger than this is not worth jumping through.
const MAX_SKIP_BYTES: usize = 32;
/// Below one candidate per this many bytes, jumping beats the lazy DFA's scan.
const BYTES_PER_TRY: usize = 48;
/// Tries before the density is judged.
const MIN_TRIES: usize = 32;

pub struct PatternRegex {
    re: meta::Regex,
    skip: Option<Finder>,
}

impl PatternRegex {
    pub fn new(pattern: &str, level: SimdLevel) -> Result<PatternRegex, String> {
        // What `regex::Regex::new` uses (regex 1.x builders.rs).
        let syntaxc = syntax::Config::new().utf8(true);
        let metac = meta::Config::new()
            .match_kind(MatchKind::LeftmostFirst)
            .utf8_empty(true)
            .nfa_size_limit(Some(10 * (1 << 20)))
            .hybrid_cache_capacity(2 * (1 << 20));
        let re = meta::Builder::new()
            .configure(metac)
            .syntax(syntaxc)
            .build(pattern)
            .map_err(|e| match e.syntax_error() {
                Some(se) => se
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_owned(),
                None => e.to_string(),
            })?;
        let hir = syntax::parse_with(pattern, &syntaxc).map_err(|e| e.to_string())?;
        let has_fast_prefilter =
            Prefilter::from_hir_prefix(MatchKind::LeftmostFirst, &hir).is_some_and(|p| p.is_fast());
        let skip = if has_fast_prefilter {
            None
        } else {
            skip_finder(&first_bytes(&hir), level)
        };
        Ok(PatternRegex { re, skip })
    }

    /// Whether searches jump between candidate bytes.
    #[cfg(test)]
    pub fn skips(&self) -> bool {
        self.skip.is_some()
    }

    /// Appends this regex's matches in `hay` to `out`, tagged `id`.
    pub fn find_all(&self, hay: &str, id: u32, out: &mut Vec<Match>) {
        let bytes = hay.as_bytes();
        let mut pos = 0;
        if let Some(skip) = &self.skip {
            let mut tries = 0usize;
            loop {
                let Some(i) = bytes.get(pos..).and_then(|rest| skip.find(rest)) else {
                    return;
                };
                let at = pos + i;
                let input = Input::new(bytes).range(at..).anchored(Anchored::Yes);
                match self.re.search(&input) {
                    Some(m) if !m.is_empty() => {
                        out.push(Match {
                            id,
                            start: m.start(),
                            end: m.end(),
                        });
                        pos = m.end();
                    }
                    // No match starts here, or only an empty one (skipped): next byte.
                    // `at` starts a character (first-byte sets hold no continuation
                    // bytes) and the next candidate will too.
                    _ => pos = at + 1,
                }
                tries += 1;
                if tries >= MIN_TRIES && tries * BYTES_PER_TRY > pos {
                    break; // dense candidates: the plain search is cheaper from here
                }
            }
        }
        while pos <= bytes.len() {
            let Some(m) = self.re.search(&Input::new(bytes).range(pos..)) else {
                return;
            };
            if m.is_empty() {
                pos = m.start() + 1; // as Rust's find_iter and the Python twin do
                continue;
            }
            out.push(Match {
                id,
                start: m.start(),
                end: m.end(),
            });
            pos = m.end();
        }
    }
}

fn skip_finder(table: &[bool; 256], level: SimdLevel) -> Option<Finder> {
    let set = DelimSet::from_table(table)?;
    let prose = |b: u8| b.is_ascii_lowercase() || b == b' ';
    if set.len() > MAX_SKIP_BYTES || (0..=255u8).any(|b| table[b as usize] && prose(b)) {
        return None;
    }
    Some(Finder::new(set, level))
}
