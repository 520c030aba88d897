//! HTTP/1.x response heads (kernel `http1`): split a buffered head into status, headers,
//! Content-Length and the two framing facts the upstream client needs (chunked?
//! keep-alive?).
//!
//! Hand-written rather than `httparse`: the gateway's semantics (docs/KERNELS.md §6) are
//! those of its original Python client, which tolerates what httparse rejects or reads
//! differently — header lines without a colon are skipped, a bare LF is data (lines end
//! with CRLF only), any byte may appear in a header name, and `HTTP/1.2`..`HTTP/1.9` are
//! accepted (without default keep-alive).
//!
//! Line ends are found with the SIMD delimiter scan (`Finder` for b"\n"), in one pass
//! that both finds the head's end and splits it into lines.

use crate::core::scan::Finder;

/// `flags` bit: the body is chunked.
pub const FLAG_CHUNKED: u8 = 1;
/// `flags` bit: the connection may be reused after this response.
pub const FLAG_KEEP_ALIVE: u8 = 2;

/// How many bytes of a bad status line or Content-Length an error message quotes.
const QUOTE_BYTES: usize = 80;

/// Python's `bytes.strip()` set (ASCII whitespace), which the original client used.
#[inline]
fn is_py_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// `bytes.strip()`.
pub fn strip(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_py_space(*first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !is_py_space(*last) {
            break;
        }
        s = rest;
    }
    s
}

/// One header line, both parts stripped; the name keeps its case (callers lower it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead<'a> {
    /// Bytes consumed, the final CRLFCRLF included.
    pub head_len: usize,
    pub status: u16,
    pub headers: Vec<Header<'a>>,
    pub content_length: Option<u64>,
    /// [`FLAG_CHUNKED`] | [`FLAG_KEEP_ALIVE`].
    pub flags: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeadError {
    /// No CRLFCRLF and more than `max_head` bytes buffered.
    TooLarge,
    /// The first line is not `HTTP/1.<digit> <3 digits>[ reason]`; holds its first bytes.
    BadStatusLine(Vec<u8>),
    /// A Content-Length that is not a decimal integer in 0..=i64::MAX; its first bytes.
    BadContentLength(Vec<u8>),
    /// Two Content-Length headers with different values.
    ConflictingContentLength(u64, u64),
}

impl std::fmt::Display for HeadError {
    /// Exactly the messages of the Python and Cython twins.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeadError::TooLarge => f.write_str("upstream response head too large"),
            HeadError::BadStatusLine(line) => {
                write!(f, "bad upstream status line {}", py_bytes_repr(line))
            }
            HeadError::BadContentLength(value) => {
                write!(f, "bad upstream content-length {}", py_bytes_repr(value))
            }
            HeadError::ConflictingContentLength(a, b) => {
                write!(f, "conflicting upstream content-length values {a} and {b}")
            }
        }
    }
}

impl std::error::Error for HeadError {}

/// Python's `repr(bytes)`: b'...' (or b"..." when only a single quote occurs), with
/// \\, \t, \n, \r and \xhh escapes for everything outside printable ASCII.
pub fn py_bytes_repr(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(data.len() + 3);
    out.push('b');
    out.push(quote);
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if b as char == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(b as char),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\x");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
    out.push(quote);
    out
}

/// Index just past the first CRLFCRLF of `buf`, and where each CRLF before it starts
/// (the last one is the head's end). Every CRLFCRLF ends in a LF, so the first LF that
/// closes one closes the first; CRLFs never overlap, so every LF after a CR ends a line
/// exactly as `bytes.split(b"\r\n")` cuts them.
fn head_end(buf: &[u8], newline: &Finder, crlfs: &mut Vec<usize>) -> Option<usize> {
    let mut pos = 0;
    while let Some(i) = newline.find(&buf[pos..]) {
        let j = pos + i;
        if j >= 1 && buf[j - 1] == b'\r' {
            if j >= 3 && &buf[j - 3..j - 1] == b"\r\n" {
                return Some(j + 1);
            }
            crlfs.push(j - 1);
        }
        pos = j + 1;
    }
    None
}

/// `(minor version digit, status)` of `HTTP/1.<digit> <3 digits>`, optionally followed
/// by SP and any reason.
fn status_line(line: &[u8]) -> Option<(u8, u16)> {
    if line.len() < 12 || !line.starts_with(b"HTTP/1.") || line[8] != b' ' {
        return None;
    }
    if line.len() > 12 && line[12] != b' ' {
        return None;
    }
    let minor = line[7];
    let code = &line[9..12];
    if !minor.is_ascii_digit() || !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let status = code.iter().fold(0u16, |n, &d| n * 10 + (d - b'0') as u16);
    Some((minor, status))
}

/// A Content-Length value: ASCII digits only (leading zeros fine), at most i64::MAX.
fn content_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &d in value {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    (n <= i64::MAX as u64).then_some(n)
}

/// ASCII case-insensitive `needle in hay` (`needle` given in lower case). Python's
/// `needle in value.lower()` on the latin-1 text agrees: no latin-1 letter lowers to ASCII.
fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

fn quote(bytes: &[u8]) -> Vec<u8> {
    bytes[..bytes.len().min(QUOTE_BYTES)].to_vec()
}

/// Parses the head at the start of `buf`. `Ok(None)`: no CRLFCRLF yet and at most
/// `max_head` bytes buffered (read more and call again). `newline` must search for b"\n".
///
/// The terminator is looked for in the whole buffer: `max_head` bounds how long we wait
/// for one, as in the original client, not how long a head that has arrived may be.
pub fn parse_response_head<'a>(
    buf: &'a [u8],
    max_head: usize,
    newline: &Finder,
) -> Result<Option<ResponseHead<'a>>, HeadError> {
    let mut crlfs = Vec::with_capacity(32);
    let Some(head_len) = head_end(buf, newline, &mut crlfs) else {
        return if buf.len() > max_head {
            Err(HeadError::TooLarge)
        } else {
            Ok(None)
        };
    };
    // the lines end at each CRLF found, the last being the head's end
    let mut start = 0;
    let mut lines = crlfs.iter().map(|&end| {
        let line = &buf[start..end];
        start = end + 2;
        line
    });
    let first = lines.next().unwrap_or(b"");
    let (minor, status) =
        status_line(first).ok_or_else(|| HeadError::BadStatusLine(quote(first)))?;
    let mut keep_alive = minor == b'1';
    let mut chunked = false;
    let mut length: Option<u64> = None;
    let mut headers = Vec::with_capacity(16);
    for line in lines {
        let colon = match line.iter().position(|&b| b == b':') {
            Some(c) if c > 0 => c,
            _ => continue, // no colon, or an empty name: skipped, as the original client did
        };
        let name = strip(&line[..colon]);
        let value = strip(&line[colon + 1..]);
        headers.push(Header { name, value });
        if name.eq_ignore_ascii_case(b"content-length") {
            let n =
                content_length(value).ok_or_else(|| HeadError::BadContentLength(quote(value)))?;
            match length {
                Some(prev) if prev != n => {
                    return Err(HeadError::ConflictingContentLength(prev, n));
                }
                _ => length = Some(n),
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            chunked = contains_ignore_case(value, b"chunked"); // the last one decides
        } else if name.eq_ignore_ascii_case(b"connection") {
            if contains_ignore_case(value, b"close") {
                keep_alive = false;
            } else if contains_ignore_case(value, b"keep-alive") {
                keep_alive = true;
            }
        }
    }
    let flags =
        if chunked { FLAG_CHUNKED } else { 0 } | if keep_alive { FLAG_KEEP_ALIVE } else { 0 };
    Ok(Some(ResponseHead {
        head_len,
        status,
        headers,
        content_length: length,
        flags,
    }))
}

#[cfg(test)]
#[path = "head_tests.rs"]
mod tests;
