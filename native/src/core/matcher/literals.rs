//! The literals: one Aho-Corasick automaton, leftmost-longest.
//!
//! ASCII case folding is done by lowercasing: the literals once, the text per search
//! (a vectorised copy), then matching case-sensitively. Folding only A-Z/a-z never
//! changes a byte's length or position, so offsets carry over, and the automaton's
//! literal prefilter works far better on one case than on every case variant.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::Match;

pub struct Literals {
    ac: AhoCorasick,
    fold: bool,
}

impl Literals {
    pub fn new<L: AsRef<str>>(literals: &[L], fold: bool) -> Result<Literals, String> {
        let patterns: Vec<Vec<u8>> = literals
            .iter()
            .map(|l| {
                let b = l.as_ref().as_bytes();
                if fold {
                    b.to_ascii_lowercase()
                } else {
                    b.to_vec()
                }
            })
            .collect();
        // Leftmost-longest reports, among equally long matches at one start, the pattern
        // added first: the lowest id, as the contract wants for duplicates and case
        // variants.
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .map_err(|e| e.to_string())?;
        Ok(Literals { ac, fold })
    }

    pub fn find_all(&self, text: &str, out: &mut Vec<Match>) {
        let push = |m: aho_corasick::Match| Match {
            id: m.pattern().as_u32(),
            start: m.start(),
            end: m.end(),
        };
        if self.fold {
            let lowered = text.as_bytes().to_ascii_lowercase();
            out.extend(self.ac.find_iter(&lowered).map(push));
        } else {
            out.extend(self.ac.find_iter(text).map(push));
        }
    }
}
