//! Incremental `text/event-stream` parser (WHATWG HTML, "Interpreting an event stream").
//!
//! Works on bytes and never decodes: line terminators and field names are ASCII, so
//! splitting before decoding gives what decoding first would (UTF-8 decoding with
//! replacement never folds an ASCII byte into a U+FFFD), and event fields are handed to
//! the sink as raw bytes for the caller to decode once per finished event.
//!
//! Results never depend on how the stream is chunked: a BOM, a CRLF pair or a line may be
//! split anywhere. Memory is bounded by `max_line_bytes` per unfinished line.

use super::scan::{DelimSet, Finder, SimdLevel};

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// A dispatched event. Byte fields are undecoded UTF-8 (possibly invalid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// The `event` field; empty means the default type, "message".
    pub event_type: &'a [u8],
    pub data: &'a [u8],
    pub id: &'a [u8],
    /// The `retry` value set since the previous dispatch, if any.
    pub retry: Option<u64>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum FramerError<E> {
    /// A line outgrew `max_line_bytes`; the framer is now poisoned.
    LineTooLong { max_line_bytes: usize },
    /// The sink refused an event.
    Sink(E),
}

impl<E> From<E> for FramerError<E> {
    fn from(e: E) -> Self {
        FramerError::Sink(e)
    }
}

/// Values that outlive one feed: saved before a feed first changes them, so that a feed
/// failing on a too-long line leaves them as they were (the Python twin validates the
/// whole chunk before it interprets any line).
#[derive(Debug, Clone)]
struct Persistent {
    last_id: Vec<u8>,
    retry: Option<u64>,
}

pub struct SseParser {
    max_line: usize,
    finder: Finder,
    /// Bytes of the unfinished line.
    carry: Vec<u8>,
    /// While the stream is young: the bytes seen so far, all a proper prefix of the BOM.
    bom_held: Vec<u8>,
    bom_pending: bool,
    /// The previous chunk ended with CR: a leading LF completes that line ending.
    skip_lf: bool,
    data: Vec<u8>,
    event_type: Vec<u8>,
    retry_in_block: Option<u64>,
    last_id: Vec<u8>,
    retry: Option<u64>,
    poisoned: bool,
    saved: Option<Persistent>,
}

impl SseParser {
    /// `max_line_bytes` must be at least 1 (checked by the caller).
    pub fn new(max_line_bytes: usize, level: SimdLevel) -> SseParser {
        let set = DelimSet::new(b"\r\n").expect("two delimiters are a valid set");
        SseParser {
            max_line: max_line_bytes,
            finder: Finder::new(set, level),
            carry: Vec::new(),
            bom_held: Vec::with_capacity(3),
            bom_pending: true,
            skip_lf: false,
            data: Vec::new(),
            event_type: Vec::new(),
            retry_in_block: None,
            last_id: Vec::new(),
            retry: None,
            poisoned: false,
            saved: None,
        }
    }

    pub fn max_line_bytes(&self) -> usize {
        self.max_line
    }

    pub fn last_event_id(&self) -> &[u8] {
        &self.last_id
    }

    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Bytes held for an unfinished line (a possible BOM still undecided excluded).
    pub fn buffered(&self) -> usize {
        self.carry.len()
    }

    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Parses `chunk`, handing each finished event to `sink` in stream order.
    pub fn feed<E>(
        &mut self,
        chunk: &[u8],
        sink: &mut dyn FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<(), FramerError<E>> {
        if self.poisoned {
            return Err(self.too_long());
        }
        self.saved = None;
        let result = self.feed_inner(chunk, sink);
        if let Err(FramerError::LineTooLong { .. }) = result {
            self.poison();
        }
        self.saved = None;
        result
    }

    /// End of stream: a final unterminated line is interpreted (it can set `id` or
    /// `retry`, never dispatch), the pending event is discarded, and the parser starts
    /// over as for a new stream. `last_event_id` and `retry` are kept, as EventSource
    /// keeps them across reconnections.
    pub fn close<E>(&mut self) -> Result<(), FramerError<E>> {
        if self.poisoned {
            return Err(self.too_long());
        }
        if self.bom_pending && !self.bom_held.is_empty() {
            // EF or EF BB and then the end: not a BOM, just the start of a last line.
            let held = std::mem::take(&mut self.bom_held);
            self.carry.extend_from_slice(&held);
        }
        if !self.carry.is_empty() {
            let line = std::mem::take(&mut self.carry);
            // A non-empty line never dispatches, so no sink is ever called here.
            self.interpret(&line, &mut |_| Ok::<(), ()>(()))
                .expect("a non-empty line never reaches the sink");
        }
        self.reset_stream();
        Ok(())
    }

    fn reset_stream(&mut self) {
        self.carry = Vec::new();
        self.bom_held.clear();
        self.bom_pending = true;
        self.skip_lf = false;
        self.data.clear();
        self.event_type.clear();
        self.retry_in_block = None;
    }

    fn too_long<E>(&self) -> FramerError<E> {
        FramerError::LineTooLong {
            max_line_bytes: self.max_line,
        }
    }

    fn poison(&mut self) {
        if let Some(saved) = self.saved.take() {
            self.last_id = saved.last_id;
            self.retry = saved.retry;
        }
        self.poisoned = true;
        self.carry = Vec::new();
    }

    fn feed_inner<E>(
        &mut self,
        chunk: &[u8],
        sink: &mut dyn FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<(), FramerError<E>> {
        let mut input = chunk;
        if self.bom_pending {
            // Decide the BOM question from at most three leading bytes of the stream.
            while !input.is_empty() && self.bom_held.len() < 3 {
                let b = input[0];
                if b != BOM[self.bom_held.len()] {
                    break;
                }
                self.bom_held.push(b);
                input = &input[1..];
            }
            if self.bom_held.len() == 3 {
                self.bom_held.clear();
                self.bom_pending = false;
            } else if input.is_empty() {
                return Ok(()); // still a possible BOM: wait for more bytes
            } else {
                // A mismatch: what was held is ordinary stream content.
                self.bom_pending = false;
                let held = std::mem::take(&mut self.bom_held);
                self.process(&held, sink)?;
            }
        }
        self.process(input, sink)
    }

    fn process<E>(
        &mut self,
        input: &[u8],
        sink: &mut dyn FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<(), FramerError<E>> {
        let mut pos = 0;
        if self.skip_lf && !input.is_empty() {
            self.skip_lf = false;
            if input[0] == b'\n' {
                pos = 1;
            }
        }
        while pos < input.len() {
            let rest = &input[pos..];
            let Some(i) = self.finder.find(rest) else {
                if self.carry.len() + rest.len() > self.max_line {
                    return Err(self.too_long());
                }
                self.carry.extend_from_slice(rest);
                break;
            };
            if self.carry.len() + i > self.max_line {
                return Err(self.too_long());
            }
            if self.carry.is_empty() {
                self.interpret(&rest[..i], sink)?;
            } else {
                let mut line = std::mem::take(&mut self.carry);
                line.extend_from_slice(&rest[..i]);
                let result = self.interpret(&line, sink);
                line.clear();
                self.carry = line; // keep the allocation for the next partial line
                result?;
            }
            pos += i + 1;
            if rest[i] == b'\r' {
                if pos < input.len() {
                    if input[pos] == b'\n' {
                        pos += 1;
                    }
                } else {
                    self.skip_lf = true;
                }
            }
        }
        Ok(())
    }

    fn save_persistent(&mut self) {
        if self.saved.is_none() {
            self.saved = Some(Persistent {
                last_id: self.last_id.clone(),
                retry: self.retry,
            });
        }
    }

    /// One complete line, terminator excluded.
    fn interpret<E>(
        &mut self,
        line: &[u8],
        sink: &mut dyn FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        if line.is_empty() {
            return self.dispatch(sink);
        }
        if line[0] == b':' {
            return Ok(());
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(c) => {
                let v = &line[c + 1..];
                (&line[..c], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &[][..]),
        };
        match Field::of(name) {
            Field::Data => {
                self.data.reserve(value.len() + 1);
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
            }
            Field::Event => {
                if self.event_type != value {
                    self.event_type.clear();
                    self.event_type.extend_from_slice(value);
                }
            }
            Field::Id => {
                if !value.contains(&0) && self.last_id != value {
                    self.save_persistent();
                    self.last_id.clear();
                    self.last_id.extend_from_slice(value);
                }
            }
            Field::Retry => {
                if let Some(ms) = parse_retry(value) {
                    self.save_persistent();
                    self.retry = Some(ms);
                    self.retry_in_block = Some(ms);
                }
            }
            Field::Other => {}
        }
        Ok(())
    }

    fn dispatch<E>(&mut self, sink: &mut dyn FnMut(Event<'_>) -> Result<(), E>) -> Result<(), E> {
        if self.data.is_empty() {
            self.event_type.clear();
            return Ok(());
        }
        self.data.pop(); // the data buffer always ends with the `\n` its last line added
        let event = Event {
            event_type: &self.event_type,
            data: &self.data,
            id: &self.last_id,
            retry: self.retry_in_block,
        };
        let result = sink(event);
        self.data.clear();
        self.event_type.clear();
        self.retry_in_block = None;
        result
    }
}

/// The field names the parser acts on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Data,
    Event,
    Id,
    Retry,
    Other,
}

impl Field {
    /// By length first, then one fixed-size compare: cheaper than a chain of slice
    /// comparisons on every line.
    #[inline]
    fn of(name: &[u8]) -> Field {
        match name.len() {
            2 if name == b"id" => Field::Id,
            4 if name == b"data" => Field::Data,
            5 if name == b"event" => Field::Event,
            5 if name == b"retry" => Field::Retry,
            _ => Field::Other,
        }
    }
}

/// A `retry` value: non-empty, ASCII digits only, and fitting a u64 (larger values are
/// ignored like any other unusable value, in every backend).
pub fn parse_retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    let mut ms: u64 = 0;
    for &b in value {
        if !b.is_ascii_digit() {
            return None;
        }
        ms = ms.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(ms)
}

#[cfg(test)]
#[path = "sse_tests.rs"]
mod tests;
