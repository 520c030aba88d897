//! A delimiter set prepared once for every search strategy.
//!
//! Up to three distinct bytes are compared directly (one vector compare each). More use
//! the nibble-table ("shufti") test: a byte `b` is in the set when
//! `lo_table[b & 15] & hi_table[b >> 4] != 0`. Each bit of the tables is a bucket holding
//! exactly one high nibble, with the low nibbles of the delimiters that share it, so the
//! test is exact. Eight bits give eight buckets; a set spanning more than eight high
//! nibbles uses a second pair of tables.

/// The most delimiters a set may hold (duplicates count).
pub const MAX_DELIMS: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DelimError {
    Empty,
    TooMany(usize),
}

impl std::fmt::Display for DelimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DelimError::Empty => write!(f, "delims must hold 1 to {MAX_DELIMS} bytes, got 0"),
            DelimError::TooMany(n) => {
                write!(f, "delims must hold 1 to {MAX_DELIMS} bytes, got {n}")
            }
        }
    }
}

impl std::error::Error for DelimError {}

/// How the vector paths test a byte for membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    Eq1(u8),
    Eq2(u8, u8),
    Eq3(u8, u8, u8),
    /// `groups` (1 or 2) pairs of nibble tables.
    Shufti {
        groups: usize,
        lo: [[u8; 16]; 2],
        hi: [[u8; 16]; 2],
    },
}

#[derive(Clone, Debug)]
pub struct DelimSet {
    distinct: [u8; MAX_DELIMS],
    count: usize,
    member: [bool; 256],
    plan: Plan,
}

impl DelimSet {
    pub fn new(delims: &[u8]) -> Result<DelimSet, DelimError> {
        if delims.is_empty() {
            return Err(DelimError::Empty);
        }
        if delims.len() > MAX_DELIMS {
            return Err(DelimError::TooMany(delims.len()));
        }
        let mut member = [false; 256];
        let mut distinct = [0u8; MAX_DELIMS];
        let mut count = 0;
        for &b in delims {
            if !member[b as usize] {
                member[b as usize] = true;
                distinct[count] = b;
                count += 1;
            }
        }
        let d = &distinct[..count];
        let plan = match *d {
            [a] => Plan::Eq1(a),
            [a, b] => Plan::Eq2(a, b),
            [a, b, c] => Plan::Eq3(a, b, c),
            _ => shufti_tables(d),
        };
        Ok(DelimSet {
            distinct,
            count,
            member,
            plan,
        })
    }

    /// Any non-empty byte class, however large (the nibble tables hold one bucket per
    /// high nibble, so every set fits in two groups). `None` for the empty set.
    pub fn from_table(member: &[bool; 256]) -> Option<DelimSet> {
        let bytes: Vec<u8> = (0..=255u8).filter(|&b| member[b as usize]).collect();
        if bytes.len() <= MAX_DELIMS {
            return DelimSet::new(&bytes).ok();
        }
        let mut distinct = [0u8; MAX_DELIMS];
        distinct.copy_from_slice(&bytes[..MAX_DELIMS]);
        Some(DelimSet {
            distinct,
            count: bytes.len(),
            member: *member,
            plan: shufti_tables(&bytes),
        })
    }

    /// How many distinct bytes the set holds.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The distinct delimiters, in first-seen order (a set of more than
    /// [`MAX_DELIMS`] bytes, made by [`DelimSet::from_table`], lists only its first ones).
    pub fn distinct(&self) -> &[u8] {
        &self.distinct[..self.count.min(MAX_DELIMS)]
    }

    #[inline]
    pub fn contains(&self, b: u8) -> bool {
        self.member[b as usize]
    }

    pub fn member_table(&self) -> &[bool; 256] {
        &self.member
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }
}

fn shufti_tables(distinct: &[u8]) -> Plan {
    let mut lo = [[0u8; 16]; 2];
    let mut hi = [[0u8; 16]; 2];
    // bucket index of each high nibble, assigned in first-seen order
    let mut bucket_of = [usize::MAX; 16];
    let mut buckets = 0;
    for &b in distinct {
        let h = (b >> 4) as usize;
        if bucket_of[h] == usize::MAX {
            bucket_of[h] = buckets;
            buckets += 1;
        }
        let k = bucket_of[h];
        let (group, bit) = (k / 8, 1u8 << (k % 8));
        hi[group][h] |= bit;
        lo[group][(b & 15) as usize] |= bit;
    }
    Plan::Shufti {
        groups: buckets.div_ceil(8),
        lo,
        hi,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shufti_member(plan: &Plan, b: u8) -> bool {
        match plan {
            Plan::Shufti { groups, lo, hi } => {
                (0..*groups).any(|g| lo[g][(b & 15) as usize] & hi[g][(b >> 4) as usize] != 0)
            }
            _ => unreachable!(),
        }
    }

    #[test]
    fn rejects_empty_and_too_many() {
        assert_eq!(DelimSet::new(b"").unwrap_err(), DelimError::Empty);
        assert_eq!(
            DelimSet::new(&[0u8; 17]).unwrap_err(),
            DelimError::TooMany(17)
        );
        assert!(DelimSet::new(&[7u8; 16]).is_ok());
    }

    #[test]
    fn duplicates_collapse_to_compare_plans() {
        assert_eq!(*DelimSet::new(b"aaaa").unwrap().plan(), Plan::Eq1(b'a'));
        assert_eq!(
            *DelimSet::new(b"\r\n\r").unwrap().plan(),
            Plan::Eq2(b'\r', b'\n')
        );
        assert_eq!(
            *DelimSet::new(b"xyzx").unwrap().plan(),
            Plan::Eq3(b'x', b'y', b'z')
        );
    }

    #[test]
    fn any_class_from_a_table() {
        let mut t = [false; 256];
        assert!(DelimSet::from_table(&t).is_none());
        for b in (0..=255u8).filter(|b| b % 3 == 0 || b.is_ascii_digit()) {
            t[b as usize] = true;
        }
        let set = DelimSet::from_table(&t).unwrap();
        assert!(set.len() > MAX_DELIMS);
        for b in 0..=255u8 {
            assert_eq!(shufti_member(set.plan(), b), t[b as usize]);
            assert_eq!(set.contains(b), t[b as usize]);
        }
        t = [false; 256];
        t[b'7' as usize] = true;
        assert_eq!(*DelimSet::from_table(&t).unwrap().plan(), Plan::Eq1(b'7'));
    }

    #[test]
    fn shufti_tables_are_exact() {
        let sets: [&[u8]; 4] = [
            b"abcd",
            b"\x00\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0\xc0\xd0\xe0\xf0",
            b"\x01\x12\x23\x34\x45\x56\x67\x78\x89",
            b"\"\\{}[],:",
        ];
        for s in sets {
            let set = DelimSet::new(s).unwrap();
            for b in 0..=255u8 {
                assert_eq!(
                    shufti_member(set.plan(), b),
                    s.contains(&b),
                    "set {s:?} byte {b}"
                );
            }
        }
    }
}
