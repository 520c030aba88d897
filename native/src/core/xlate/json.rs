//! A strict JSON scanner over one event's data: it walks the text once, allocating nothing,
//! and accepts only what orjson (the Python twin's parser) accepts, and of numbers less.
//!
//! Every method returns `None` for "not sure": the caller then hands the event back to the
//! reference, which is always correct. So the scanner may refuse valid JSON (keys written
//! with escapes where keys matter, numbers outside a modest range, deep nesting) but must
//! never accept text orjson would refuse: raw control characters in strings, bad or
//! lone-surrogate escapes, NaN/Infinity, numbers that overflow a double, trailing commas or
//! garbage. The input is valid UTF-8 (checked by the caller), so raw bytes >= 0x80 in
//! strings need no look.

use crate::core::scan::{DelimSet, Finder, SimdLevel};

/// A string token: `start..end` is its raw body between the quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Str {
    pub start: usize,
    pub end: usize,
    /// The body holds at least one backslash escape.
    pub escaped: bool,
}

impl Str {
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// What a field the caller inspects held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Val {
    Absent,
    Null,
    Str(Str),
    /// A plain non-negative integer: digits only, no leading zero, no sign, fraction or
    /// exponent (what Python sees as an `int` for sure).
    Int(i64),
    /// Any other valid value (validated and skipped).
    Other,
}

/// Deeper nesting is handed back (orjson allows 1024 levels; events nest 4 or 5).
const MAX_DEPTH: u32 = 64;
/// Significant digits of a number, integer and fraction parts together.
const MAX_DIGITS: usize = 64;
/// A plain integer with at most this many digits fits an i64.
const MAX_INT_DIGITS: usize = 18;
/// Integer digits + exponent: beyond it a number might overflow a double (10^308).
const MAX_MAGNITUDE: i32 = 300;

/// The bytes that stop a run of string body: the quote, the backslash and the control
/// characters (refused raw).
pub fn string_stops(level: SimdLevel) -> Finder {
    let set = DelimSet::from_table(&STOPS).expect("the class is not empty");
    Finder::new(set, level)
}

pub struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    depth: u32,
    /// Made by [`string_stops`].
    stops: &'a Finder,
}

impl<'a> Scanner<'a> {
    pub fn new(b: &'a [u8], stops: &'a Finder) -> Self {
        Scanner {
            b,
            i: 0,
            depth: 0,
            stops,
        }
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.b
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// The first byte of the next value, whitespace skipped.
    #[inline]
    pub fn lookahead(&mut self) -> Option<u8> {
        self.ws();
        self.peek()
    }

    #[inline]
    pub fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if c == b' ' || c == b'\n' || c == b'\r' || c == b'\t' {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    #[inline]
    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// Only whitespace is left.
    pub fn end(&mut self) -> Option<()> {
        self.ws();
        (self.i == self.b.len()).then_some(())
    }

    /// An object whose keys the caller looks at: `field(self, key)` is called at each value
    /// and must consume it. Keys written with escapes are refused (a key that only decodes
    /// to a name the caller knows could otherwise hide a duplicate).
    #[inline]
    pub fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, &'a [u8]) -> Option<()>,
    ) -> Option<()> {
        self.ws();
        self.eat(b'{')?;
        self.enter()?;
        self.ws();
        if self.eat(b'}').is_none() {
            loop {
                self.ws();
                let key = self.string()?;
                if key.escaped {
                    return None;
                }
                self.ws();
                self.eat(b':')?;
                self.ws();
                let b = self.b;
                field(self, &b[key.start..key.end])?;
                self.ws();
                match self.peek()? {
                    b',' => self.i += 1,
                    b'}' => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// An array of exactly one element, read by `item`.
    #[inline]
    pub fn single<T>(&mut self, item: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        self.ws();
        self.eat(b'[')?;
        self.enter()?;
        self.ws();
        let found = item(self)?;
        self.ws();
        self.eat(b']')?;
        self.depth -= 1;
        Some(found)
    }

    /// The literal `null` (anything else: None).
    #[inline]
    pub fn null(&mut self) -> Option<()> {
        self.literal(b"null")
    }

    /// A string value (anything else: None).
    #[inline]
    pub fn str_value(&mut self) -> Option<Str> {
        self.ws();
        self.string()
    }

    /// A plain non-negative integer (anything else: None).
    #[inline]
    pub fn int(&mut self) -> Option<i64> {
        match self.value()? {
            Val::Int(n) => Some(n),
            _ => None,
        }
    }

    /// Any value, classified.
    pub fn value(&mut self) -> Option<Val> {
        self.ws();
        match self.peek()? {
            b'"' => self.string().map(Val::Str),
            b'n' => self.null().map(|()| Val::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => self.skip().map(|()| Val::Other),
        }
    }

    /// Validates and passes over any value.
    pub fn skip(&mut self) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => {
                self.i += 1;
                self.enter()?;
                self.ws();
                if self.eat(b'}').is_none() {
                    loop {
                        self.ws();
                        self.string()?;
                        self.ws();
                        self.eat(b':')?;
                        self.skip()?;
                        self.ws();
                        match self.peek()? {
                            b',' => self.i += 1,
                            b'}' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                self.depth -= 1;
                Some(())
            }
            b'[' => {
                self.i += 1;
                self.enter()?;
                self.ws();
                if self.eat(b']').is_none() {
                    loop {
                        self.skip()?;
                        self.ws();
                        match self.peek()? {
                            b',' => self.i += 1,
                            b']' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                self.depth -= 1;
                Some(())
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number().map(|_| ()),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.ws();
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    /// A number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, within the limits above.
    fn number(&mut self) -> Option<Val> {
        let negative = self.eat(b'-').is_some();
        let int_start = self.i;
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let int_digits = self.i - int_start;
        let mut plain = !negative;
        let mut frac_digits = 0;
        if self.eat(b'.').is_some() {
            let start = self.i;
            self.digits();
            frac_digits = self.i - start;
            if frac_digits == 0 {
                return None;
            }
            plain = false;
        }
        if int_digits + frac_digits > MAX_DIGITS {
            return None;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            let exp_negative = match self.peek() {
                Some(b'-') => {
                    self.i += 1;
                    true
                }
                Some(b'+') => {
                    self.i += 1;
                    false
                }
                _ => false,
            };
            let start = self.i;
            self.digits();
            let exp_digits = &self.b[start..self.i];
            if exp_digits.is_empty() || exp_digits.len() > 3 {
                return None;
            }
            let exp = exp_digits
                .iter()
                .fold(0i32, |n, &d| n * 10 + i32::from(d - b'0'));
            let exp = if exp_negative { -exp } else { exp };
            if int_digits as i32 + exp > MAX_MAGNITUDE {
                return None;
            }
            plain = false;
        }
        if !plain || int_digits > MAX_INT_DIGITS {
            return Some(Val::Other);
        }
        let n = self.b[int_start..self.i]
            .iter()
            .fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
        Some(Val::Int(n))
    }

    #[inline]
    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
    }

    /// A string token at the cursor, its escapes checked.
    #[inline]
    fn string(&mut self) -> Option<Str> {
        self.eat(b'"')?;
        let start = self.i;
        let mut escaped = false;
        loop {
            self.i += self.run(&self.b[self.i..])?;
            match self.b[self.i] {
                b'"' => {
                    let s = Str {
                        start,
                        end: self.i,
                        escaped,
                    };
                    self.i += 1;
                    return Some(s);
                }
                b'\\' => {
                    escaped = true;
                    let (_, len) = escape(&self.b[self.i..])?;
                    self.i += len;
                }
                _ => return None, // a raw control character
            }
        }
    }
}

impl Scanner<'_> {
    /// Length of the plain run at the start of `rest`: up to the first byte of
    /// [`string_stops`]. Keys and most values end within a few words, where testing eight
    /// bytes at a time in a register beats a vector search's setup; longer runs go to the
    /// vector search.
    #[inline]
    fn run(&self, rest: &[u8]) -> Option<usize> {
        let mut k = 0;
        while k + 8 <= rest.len() && k < SHORT_RUN {
            let word = u64::from_le_bytes(rest[k..k + 8].try_into().expect("8 bytes"));
            let hits = stops_in(word);
            if hits != 0 {
                return Some(k + (hits.trailing_zeros() / 8) as usize);
            }
            k += 8;
        }
        if k < SHORT_RUN {
            return rest[k..]
                .iter()
                .position(|&c| STOPS[usize::from(c)])
                .map(|j| k + j);
        }
        Some(k + self.stops.find(&rest[k..])?)
    }
}

/// Bytes of a string body tested a word at a time before the vector search takes over.
const SHORT_RUN: usize = 64;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` (little-endian) that is a quote, a backslash or
/// below 0x20, exact from the lowest byte up to the first such byte (bits above it may be
/// set spuriously by borrows; only the lowest is used).
#[inline]
fn stops_in(word: u64) -> u64 {
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGHS;
    below(word, 0x20) | below(word ^ (ONES * 0x22), 1) | below(word ^ (ONES * 0x5c), 1)
}

/// [`string_stops`] as a table.
static STOPS: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        table[c] = true;
        c += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// The escape at the start of `s` (which begins with a backslash): the code point it stands
/// for and its length in bytes. A `\u` high surrogate must be followed by a `\u` low one
/// (the pair is one code point); any other surrogate is refused, as orjson refuses it.
#[inline]
pub fn escape(s: &[u8]) -> Option<(u32, usize)> {
    let cp = match *s.get(1)? {
        b'"' => '"' as u32,
        b'\\' => '\\' as u32,
        b'/' => '/' as u32,
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => '\n' as u32,
        b'r' => '\r' as u32,
        b't' => '\t' as u32,
        b'u' => {
            let hi = hex4(s.get(2..6)?)?;
            return match hi {
                0xD800..=0xDBFF => {
                    if s.get(6..8)? != b"\\u" {
                        return None;
                    }
                    let lo = hex4(s.get(8..12)?)?;
                    if !(0xDC00..=0xDFFF).contains(&lo) {
                        return None;
                    }
                    Some((0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00), 12))
                }
                0xDC00..=0xDFFF => None,
                _ => Some((hi, 6)),
            };
        }
        _ => return None,
    };
    Some((cp, 2))
}

#[inline]
fn hex4(h: &[u8]) -> Option<u32> {
    h.iter().try_fold(0u32, |n, &c| {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        Some(n << 4 | u32::from(d))
    })
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
