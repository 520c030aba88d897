//! The bytes a regex match can start with, read off the regex's syntax tree.
//!
//! Over-approximate and sound: every non-empty match begins with a byte of the set.
//! Look-around assertions and nullable parts are see-through (a match of `\b\d` or
//! `a?b` starts with whatever comes after them). Unicode classes contribute the UTF-8
//! lead bytes of their ranges, so continuation bytes (0x80-0xBF) never appear and every
//! candidate position is a character boundary.

use regex_syntax::hir::{Class, Hir, HirKind};

pub type ByteTable = [bool; 256];

/// The first-byte set of `hir`.
pub fn first_bytes(hir: &Hir) -> ByteTable {
    let mut table = [false; 256];
    collect(hir, &mut table);
    table
}

/// Adds the first bytes of `hir` to `table`; returns whether `hir` can match empty.
fn collect(hir: &Hir, table: &mut ByteTable) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(lit) => match lit.0.first() {
            Some(&b) => {
                table[b as usize] = true;
                false
            }
            None => true,
        },
        HirKind::Class(Class::Bytes(cls)) => {
            for r in cls.iter() {
                for b in r.start()..=r.end() {
                    table[b as usize] = true;
                }
            }
            false
        }
        HirKind::Class(Class::Unicode(cls)) => {
            for r in cls.iter() {
                add_lead_bytes(u32::from(r.start()), u32::from(r.end()), table);
            }
            false
        }
        HirKind::Repetition(rep) => {
            let nullable = collect(&rep.sub, table);
            nullable || rep.min == 0
        }
        HirKind::Capture(cap) => collect(&cap.sub, table),
        HirKind::Concat(subs) => {
            for sub in subs {
                if !collect(sub, table) {
                    return false;
                }
            }
            true
        }
        HirKind::Alternation(subs) => {
            let mut nullable = false;
            for sub in subs {
                nullable |= collect(sub, table);
            }
            nullable
        }
    }
}

/// The UTF-8 lead bytes of every code point in `lo..=hi`. Within one encoded length the
/// lead byte grows with the code point, so each length's share is one byte range.
fn add_lead_bytes(lo: u32, hi: u32, table: &mut ByteTable) {
    const LENGTHS: [(u32, u32); 4] = [
        (0, 0x7F),
        (0x80, 0x7FF),
        (0x800, 0xFFFF),
        (0x10000, 0x10FFFF),
    ];
    for (start, end) in LENGTHS {
        let (a, b) = (lo.max(start), hi.min(end));
        if a > b {
            continue;
        }
        for lead in lead_byte(a)..=lead_byte(b) {
            table[lead as usize] = true;
        }
    }
}

fn lead_byte(cp: u32) -> u8 {
    match cp {
        0..=0x7F => cp as u8,
        0x80..=0x7FF => 0xC0 | (cp >> 6) as u8,
        0x800..=0xFFFF => 0xE0 | (cp >> 12) as u8,
        _ => 0xF0 | (cp >> 18) as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pattern: &str) -> Vec<u8> {
        let hir = regex_syntax::parse(pattern).unwrap();
        let t = first_bytes(&hir);
        (0..=255u8).filter(|&b| t[b as usize]).collect()
    }

    #[test]
    fn literals_classes_and_nullable_prefixes() {
        assert_eq!(set("abc|xyz"), b"ax");
        assert_eq!(set(r"\bsk-\w+"), b"s");
        assert_eq!(set("a?b*c"), b"abc");
        assert_eq!(set("(?:a|)b"), b"ab");
        assert_eq!(set("(?i)k"), b"Kk\xe2"); // K folds to U+212A KELVIN SIGN (E2 84 AA)
        assert_eq!(set("é"), b"\xc3");
        assert_eq!(set("^$"), b"");
    }

    #[test]
    fn unicode_digits_give_ascii_digits_and_lead_bytes_only() {
        let s = set(r"\+?\d{1,3}");
        assert!(s.contains(&b'+'));
        assert!((b'0'..=b'9').all(|d| s.contains(&d)));
        assert!(
            s.iter().all(|b| !(0x80..0xC0).contains(b)),
            "no continuation bytes: {s:?}"
        );
        assert!(s.contains(&0xD9)); // ARABIC-INDIC DIGIT ZERO U+0660
        assert!(s.contains(&0xEF)); // FULLWIDTH DIGIT ZERO U+FF10
    }

    #[test]
    fn lead_bytes_cover_ranges_across_lengths() {
        let mut t = [false; 256];
        add_lead_bytes(0x70, 0x10FFFF, &mut t);
        let got: Vec<u8> = (0..=255u8).filter(|&b| t[b as usize]).collect();
        let want: Vec<u8> = (0x70..=0x7F)
            .chain(0xC2..=0xDF)
            .chain(0xE0..=0xEF)
            .chain(0xF0..=0xF4)
            .collect();
        assert_eq!(got, want);
    }
}
