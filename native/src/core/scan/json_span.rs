//! `top_level_span`: where the value of a top-level key of a JSON object lies, found by
//! jumping between structural bytes with the delimiter scan (string contents, numbers and
//! whitespace are never looked at byte by byte).
//!
//! The body is assumed to be valid JSON (the caller parsed it); on other input the result
//! is still deterministic — the same on every backend — but meaningless, except that a
//! string or container that never ends is reported as an error.

use super::{DelimSet, Finder, SimdLevel};

/// Every byte that opens or closes something.
const STRUCTURAL: &[u8] = b"\"{}[]";
/// Inside a string: its end, or an escape.
const STRING_STOP: &[u8] = b"\"\\";
/// What may follow a number, `true`, `false` or `null`.
const SCALAR_STOP: &[u8] = b",}] \t\r\n";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanError {
    /// A string whose opening quote is at this index never closes.
    UnterminatedString(usize),
    /// An object or array starting at this index never closes.
    UnterminatedValue(usize),
}

impl std::fmt::Display for SpanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpanError::UnterminatedString(i) => {
                write!(f, "unterminated JSON string starting at byte {i}")
            }
            SpanError::UnterminatedValue(i) => {
                write!(f, "unterminated JSON value starting at byte {i}")
            }
        }
    }
}

impl std::error::Error for SpanError {}

/// The three delimiter sets, bound to one SIMD level.
#[derive(Clone, Debug)]
pub struct JsonSpanFinder {
    structural: Finder,
    string_stop: Finder,
    scalar_stop: Finder,
}

#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn skip_ws(body: &[u8], mut i: usize) -> usize {
    while i < body.len() && is_ws(body[i]) {
        i += 1;
    }
    i
}

impl JsonSpanFinder {
    pub fn new(level: SimdLevel) -> JsonSpanFinder {
        let finder = |set: &[u8]| Finder::new(DelimSet::new(set).expect("1 to 16 bytes"), level);
        JsonSpanFinder {
            structural: finder(STRUCTURAL),
            string_stop: finder(STRING_STOP),
            scalar_stop: finder(SCALAR_STOP),
        }
    }

    #[inline]
    fn find(finder: &Finder, body: &[u8], from: usize) -> Option<usize> {
        finder.find(&body[from..]).map(|i| from + i)
    }

    /// Index just past the closing quote of the string opened at `open`.
    fn string_end(&self, body: &[u8], open: usize) -> Result<usize, SpanError> {
        let mut pos = open + 1;
        loop {
            if pos >= body.len() {
                return Err(SpanError::UnterminatedString(open));
            }
            match Self::find(&self.string_stop, body, pos) {
                None => return Err(SpanError::UnterminatedString(open)),
                Some(j) if body[j] == b'\\' => pos = j + 2, // skip the escaped byte
                Some(j) => return Ok(j + 1),
            }
        }
    }

    /// Index just past the value starting at `v` (`v < body.len()`).
    fn value_end(&self, body: &[u8], v: usize) -> Result<usize, SpanError> {
        match body[v] {
            b'"' => self.string_end(body, v),
            b'{' | b'[' => {
                let mut depth: i64 = 0;
                let mut pos = v;
                loop {
                    let j = Self::find(&self.structural, body, pos)
                        .ok_or(SpanError::UnterminatedValue(v))?;
                    match body[j] {
                        b'"' => {
                            pos = self.string_end(body, j)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        _ => depth -= 1,
                    }
                    pos = j + 1;
                    if depth == 0 {
                        return Ok(pos);
                    }
                }
            }
            _ => Ok(Self::find(&self.scalar_stop, body, v).unwrap_or(body.len())),
        }
    }

    /// `(start, end)` of the value of the first top-level `key` (compared as the raw bytes
    /// between the quotes), or None when absent or when the top level is not an object.
    pub fn top_level_span(
        &self,
        body: &[u8],
        key: &[u8],
    ) -> Result<Option<(usize, usize)>, SpanError> {
        let n = body.len();
        let first = skip_ws(body, 0);
        if first >= n || body[first] != b'{' {
            return Ok(None);
        }
        let mut depth: i64 = 0;
        let mut pos = first;
        while pos < n {
            let Some(j) = Self::find(&self.structural, body, pos) else {
                return Ok(None);
            };
            match body[j] {
                b'"' => {
                    let end = self.string_end(body, j)?;
                    if depth == 1 {
                        let k = skip_ws(body, end);
                        if k < n && body[k] == b':' {
                            let v = skip_ws(body, k + 1);
                            if &body[j + 1..end - 1] == key {
                                return if v < n {
                                    Ok(Some((v, self.value_end(body, v)?)))
                                } else {
                                    Ok(None)
                                };
                            }
                            // skip the value whole: nested keys are not top-level ones
                            pos = if v < n { self.value_end(body, v)? } else { n };
                            continue;
                        }
                    }
                    pos = end;
                }
                b'{' | b'[' => {
                    depth += 1;
                    pos = j + 1;
                }
                _ => {
                    depth -= 1;
                    pos = j + 1;
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
#[path = "json_span_tests.rs"]
mod tests;
