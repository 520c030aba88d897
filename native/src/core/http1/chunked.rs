//! HTTP/1.1 chunked transfer-coding decoder (kernel `http1`, docs/KERNELS.md §6): the body
//! of every streamed upstream response, decoded incrementally as socket reads arrive.
//!
//! The semantics are those of the upstream client's original Python decoder
//! (`_Conn._parse_chunked` in egress/h1.py), with the stricter size-line checks the
//! contract lists. Results never depend on how the input is split: every decision waits
//! for the bytes it needs (a size line for its LF, the CRLF after chunk data for both of
//! its bytes), so feeding the same bytes in any pieces gives the same data, the same
//! verdict and the same final state.
//!
//! Output is described, not copied: `feed` reports which ranges of its input are chunk
//! data (chunk data is never buffered, only a size line split across feeds is), so the
//! caller can build its result in one allocation.

use std::ops::Range;

/// The size-line bound of the original client (and the Python default).
pub const DEFAULT_MAX_SIZE_LINE: usize = 1024;

/// The largest chunk size accepted: Python's and the other backends' `int` limit of choice.
const MAX_CHUNK_SIZE: u64 = i64::MAX as u64;

const CR: u8 = b'\r';
const LF: u8 = b'\n';

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkedError {
    /// A size line that is not hex digits (optionally padded with SP/HT, optionally with
    /// `;extensions`), or a size past 2**63 - 1.
    BadSize,
    /// A size line longer than `max_size_line` bytes before its LF.
    BadSizeLine,
    /// Chunk data not followed by exactly CRLF.
    BadEncoding,
}

impl std::fmt::Display for ChunkedError {
    /// Exactly the messages of the Python and Cython twins (and of the original client).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChunkedError::BadSize => "bad chunk size from upstream",
            ChunkedError::BadSizeLine => "bad chunk size line from upstream",
            ChunkedError::BadEncoding => "bad chunked encoding from upstream",
        })
    }
}

impl std::error::Error for ChunkedError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading a size line; a part that arrived in an earlier feed is in `line`.
    SizeLine,
    /// Inside chunk data, this many bytes still to come (never 0).
    Data(u64),
    /// The CRLF after chunk data; holds its first byte once that has arrived alone.
    DataEnd(Option<u8>),
    /// Skipping trailer lines: bytes of the current line so far (a pending CR included)
    /// and whether the last of them is a CR (a LF next would end the line).
    Trailer { len: usize, cr: bool },
    /// The message is complete; whatever is fed now is `trailing`.
    Done,
    /// Refused: every later feed fails the same way.
    Failed(ChunkedError),
}

pub struct ChunkedDecoder {
    state: State,
    max_size_line: usize,
    /// The start of a size line whose LF has not arrived yet (at most `max_size_line`).
    line: Vec<u8>,
    /// Bytes fed after the end of the message.
    trailing: Vec<u8>,
}

/// SP and HT, the only padding accepted around the hex digits of a size.
#[inline]
fn is_pad(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

#[inline]
fn hex_value(b: u8) -> Option<u64> {
    match b {
        b'0'..=b'9' => Some((b - b'0') as u64),
        b'a'..=b'f' => Some((b - b'a' + 10) as u64),
        b'A'..=b'F' => Some((b - b'A' + 10) as u64),
        _ => None,
    }
}

/// The chunk size of a size line (the bytes before its LF).
///
/// As the original client: trailing CRs dropped, then everything from the first `;` cut
/// (extensions are ignored). Stricter than its `int(line, 16)`: only hex digits, with
/// optional SP/HT around them — no sign, no `0x`, no `_`, no other whitespace.
pub fn parse_size_line(line: &[u8]) -> Result<u64, ChunkedError> {
    let mut end = line.len();
    while end > 0 && line[end - 1] == CR {
        end -= 1;
    }
    let line = &line[..end];
    let mut size = match line.iter().position(|&b| b == b';') {
        Some(semi) => &line[..semi],
        None => line,
    };
    while let [first, rest @ ..] = size {
        if !is_pad(*first) {
            break;
        }
        size = rest;
    }
    while let [rest @ .., last] = size {
        if !is_pad(*last) {
            break;
        }
        size = rest;
    }
    if size.is_empty() {
        return Err(ChunkedError::BadSize);
    }
    let mut n: u64 = 0;
    for &b in size {
        let digit = hex_value(b).ok_or(ChunkedError::BadSize)?;
        // leading zeros keep n at 0, so any number of them is fine
        if n > MAX_CHUNK_SIZE >> 4 {
            return Err(ChunkedError::BadSize);
        }
        n = n << 4 | digit;
    }
    Ok(n)
}

impl ChunkedDecoder {
    /// `max_size_line` bounds a size line (bytes before its LF, CRs and extensions
    /// included); callers check it is at least 1.
    pub fn new(max_size_line: usize) -> Self {
        ChunkedDecoder {
            state: State::SizeLine,
            max_size_line,
            line: Vec::new(),
            trailing: Vec::new(),
        }
    }

    /// The last chunk and the trailer section's empty line have been consumed.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Bytes fed after the end of the message.
    pub fn trailing(&self) -> &[u8] {
        &self.trailing
    }

    /// Bytes of the unfinished element the decoder waits to complete: a size line without
    /// its LF, the first byte of the CRLF after chunk data, a trailer line without its
    /// CRLF. Only size-line bytes are stored; trailer lines are counted and skipped.
    pub fn buffered(&self) -> usize {
        match self.state {
            State::SizeLine => self.line.len(),
            State::DataEnd(Some(_)) => 1,
            State::Trailer { len, .. } => len,
            _ => 0,
        }
    }

    fn fail(&mut self, e: ChunkedError) -> Result<(), ChunkedError> {
        self.state = State::Failed(e);
        self.line = Vec::new();
        Err(e)
    }

    /// Decodes `data`, appending to `spans` the ranges of `data` that are chunk data, in
    /// order (their concatenation is this feed's output). On an error the spans pushed
    /// so far must be dropped: the decoder is failed from then on.
    pub fn feed(&mut self, data: &[u8], spans: &mut Vec<Range<usize>>) -> Result<(), ChunkedError> {
        let mut pos = 0;
        loop {
            match self.state {
                State::Failed(e) => return Err(e),
                State::Done => {
                    self.trailing.extend_from_slice(&data[pos..]);
                    return Ok(());
                }
                _ if pos == data.len() => return Ok(()),
                State::SizeLine => match self.size_line(&data[pos..]) {
                    Ok((used, next)) => {
                        pos += used;
                        self.state = next;
                    }
                    Err(e) => return self.fail(e),
                },
                State::Data(remaining) => {
                    let avail = (data.len() - pos) as u64;
                    let take = remaining.min(avail) as usize;
                    spans.push(pos..pos + take);
                    pos += take;
                    self.state = if remaining > avail {
                        State::Data(remaining - avail)
                    } else {
                        State::DataEnd(None)
                    };
                }
                State::DataEnd(held) => {
                    let first = match held {
                        Some(b) => b,
                        None => {
                            pos += 1;
                            if pos == data.len() {
                                // wait for the second byte before judging (as the original)
                                self.state = State::DataEnd(Some(data[pos - 1]));
                                return Ok(());
                            }
                            data[pos - 1]
                        }
                    };
                    let second = data[pos];
                    pos += 1;
                    if first != CR || second != LF {
                        return self.fail(ChunkedError::BadEncoding);
                    }
                    self.state = State::SizeLine;
                }
                State::Trailer { len, cr } => {
                    pos += self.trailer(&data[pos..], len, cr);
                }
            }
        }
    }

    /// Reads (the rest of) a size line from `rest` (not empty): bytes used and the next
    /// state. Without its LF, the part seen is kept in `line`.
    fn size_line(&mut self, rest: &[u8]) -> Result<(usize, State), ChunkedError> {
        let room = self.max_size_line - self.line.len();
        // a LF further than `room` bytes away would make the line too long anyway
        let window = &rest[..rest.len().min(room.saturating_add(1))];
        let Some(lf) = window.iter().position(|&b| b == LF) else {
            if rest.len() > room {
                return Err(ChunkedError::BadSizeLine);
            }
            self.line.extend_from_slice(rest);
            return Ok((rest.len(), State::SizeLine));
        };
        let size = if self.line.is_empty() {
            parse_size_line(&rest[..lf])
        } else {
            self.line.extend_from_slice(&rest[..lf]);
            let size = parse_size_line(&self.line);
            self.line.clear();
            size
        }?;
        let next = if size == 0 {
            State::Trailer { len: 0, cr: false }
        } else {
            State::Data(size)
        };
        Ok((lf + 1, next))
    }

    /// Skips trailer lines in `rest` (not empty), each ended by CRLF (a bare LF is part of
    /// the line), until the empty one. Returns the bytes used; the state is updated.
    fn trailer(&mut self, rest: &[u8], mut len: usize, mut cr: bool) -> usize {
        let mut pos = 0;
        while let Some(i) = rest[pos..].iter().position(|&b| b == LF) {
            let lf = pos + i;
            let after_cr = if lf > pos { rest[lf - 1] == CR } else { cr };
            if after_cr {
                // the line's bytes before its CRLF: the ones before, this part, minus the CR
                if len + (lf - pos) == 1 {
                    self.state = State::Done;
                    return lf + 1;
                }
                len = 0;
            } else {
                len = len.saturating_add(lf - pos + 1);
            }
            cr = false;
            pos = lf + 1;
        }
        let tail = &rest[pos..];
        if let Some(&last) = tail.last() {
            len = len.saturating_add(tail.len());
            cr = last == CR;
        }
        self.state = State::Trailer { len, cr };
        rest.len()
    }
}

#[cfg(test)]
#[path = "chunked_tests.rs"]
mod tests;
