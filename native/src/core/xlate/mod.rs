//! Kernel `xlate` (docs/KERNELS.md §7): the fast path of a translated stream. It frames the
//! upstream's SSE bytes with the `sse` kernel's parser and turns each delta event into the
//! client dialect's bytes, `prefix + JSON string + suffix`, by the routes the caller set;
//! every other event is handed back for the reference decoder and encoder.
//!
//! The semantics are the Python twin's (`kernels/_py/xlate.py`), with one freedom: an event
//! may be handed back where the twin would translate it (JSON the scanner is not sure
//! about), never the other way round, and a translated event's bytes are exactly the
//! twin's (`prefix + orjson.dumps(value) + suffix`).

mod delta;
mod dumps;
mod json;

use std::convert::Infallible;

use self::delta::Found;
use super::scan::{Finder, SimdLevel};
use super::sse::{Event, FramerError, SseParser};

/// Which dialect's events a translator reads (the `source` codes of every backend).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// chat.completion.chunk events
    OpenAi = 0,
    /// Messages stream events
    Anthropic = 1,
}

impl Source {
    pub fn from_code(code: i64) -> Option<Source> {
        match code {
            0 => Some(Source::OpenAi),
            1 => Some(Source::Anthropic),
            _ => None,
        }
    }
}

/// What deltas of one (key, field) become.
struct Route {
    key: i64,
    field: i64,
    /// None: the delta becomes nothing.
    prefix: Option<Vec<u8>>,
    suffix: Vec<u8>,
    emit_empty: bool,
}

/// A framed event waiting for `next`: ranges of the arena.
#[derive(Clone, Copy)]
struct Queued {
    event_type: (usize, usize),
    data: (usize, usize),
}

/// An event handed back: its raw `event` field (empty for the default type, "message")
/// and data, both undecoded.
#[derive(Debug, PartialEq, Eq)]
pub struct Handed<'a> {
    pub event_type: &'a [u8],
    pub data: &'a [u8],
}

/// An arena kept past a drain only up to this capacity, so one huge event does not pin
/// its copy for the rest of the stream.
const ARENA_KEEP: usize = 1 << 20;

pub struct Translator {
    source: Source,
    parser: SseParser,
    /// The queued events' bytes, one after the other.
    arena: Vec<u8>,
    queue: Vec<Queued>,
    /// The first event of `queue` not yet taken by `next`.
    head: usize,
    /// `routes[..active]` hold; the rest are kept for their allocations (the caller clears
    /// and sets the routes again after every event it handles).
    routes: Vec<Route>,
    active: usize,
    ping: Option<Vec<u8>>,
    /// Where a JSON string's plain run ends (json::string_stops).
    stops: Finder,
}

impl Translator {
    /// `max_line_bytes` must be at least 1 (checked by the caller).
    pub fn new(source: Source, max_line_bytes: usize, level: SimdLevel) -> Translator {
        Translator {
            source,
            parser: SseParser::new(max_line_bytes, level),
            arena: Vec::new(),
            queue: Vec::new(),
            head: 0,
            routes: Vec::new(),
            active: 0,
            ping: None,
            stops: json::string_stops(level),
        }
    }

    pub fn is_poisoned(&self) -> bool {
        self.parser.is_poisoned()
    }

    /// Frames `chunk`; its complete events wait for `next`. A line longer than
    /// `max_line_bytes` poisons the framer and queues none of the chunk's events (the
    /// Python framer rejects the whole chunk before it interprets a line).
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), FramerError<Infallible>> {
        if self.head == self.queue.len() {
            self.drained();
        }
        let Translator {
            parser,
            arena,
            queue,
            ..
        } = self;
        let (arena_mark, queue_mark) = (arena.len(), queue.len());
        let result = parser.feed(chunk, &mut |e: Event<'_>| -> Result<(), Infallible> {
            let start = arena.len();
            arena.extend_from_slice(e.event_type);
            let mid = arena.len();
            arena.extend_from_slice(e.data);
            queue.push(Queued {
                event_type: (start, mid),
                data: (mid, arena.len()),
            });
            Ok(())
        });
        if result.is_err() {
            arena.truncate(arena_mark);
            queue.truncate(queue_mark);
        }
        result
    }

    /// Translates queued events into `out` up to the first one the caller must handle,
    /// which is returned; None once the queue is empty.
    pub fn next(&mut self, out: &mut Vec<u8>) -> Option<Handed<'_>> {
        while self.head < self.queue.len() {
            let q = self.queue[self.head];
            self.head += 1;
            if !self.translate(&self.arena[q.data.0..q.data.1], out) {
                return Some(Handed {
                    event_type: &self.arena[q.event_type.0..q.event_type.1],
                    data: &self.arena[q.data.0..q.data.1],
                });
            }
        }
        self.drained();
        None
    }

    /// Deltas of `field` addressed to upstream block `key` become `prefix + json(value) +
    /// suffix`; nothing when `prefix` is None, or when the value is empty and either not
    /// `emit_empty` or the source is OpenAI.
    pub fn route(
        &mut self,
        key: i64,
        field: i64,
        prefix: Option<&[u8]>,
        suffix: &[u8],
        emit_empty: bool,
    ) {
        let slot = match self.routes[..self.active]
            .iter()
            .position(|r| r.key == key && r.field == field)
        {
            Some(i) => i,
            None => {
                if self.active == self.routes.len() {
                    self.routes.push(Route {
                        key,
                        field,
                        prefix: None,
                        suffix: Vec::new(),
                        emit_empty,
                    });
                }
                self.active += 1;
                self.active - 1
            }
        };
        let r = &mut self.routes[slot];
        r.key = key;
        r.field = field;
        match (prefix, &mut r.prefix) {
            (None, p) => *p = None,
            (Some(new), Some(old)) => {
                old.clear();
                old.extend_from_slice(new);
            }
            (Some(new), p) => *p = Some(new.to_vec()),
        }
        r.suffix.clear();
        r.suffix.extend_from_slice(suffix);
        r.emit_empty = emit_empty;
    }

    pub fn set_ping(&mut self, ping: Option<&[u8]>) {
        match (ping, &mut self.ping) {
            (None, p) => *p = None,
            (Some(new), Some(old)) => {
                old.clear();
                old.extend_from_slice(new);
            }
            (Some(new), p) => *p = Some(new.to_vec()),
        }
    }

    /// No routes and no ping: every event is handed back.
    pub fn clear(&mut self) {
        self.active = 0;
        self.ping = None;
    }

    fn drained(&mut self) {
        self.queue.clear();
        self.head = 0;
        if self.arena.capacity() > ARENA_KEEP {
            self.arena = Vec::new();
        } else {
            self.arena.clear();
        }
    }

    /// Appends the bytes of one event to `out`; false to hand it back.
    fn translate(&self, data: &[u8], out: &mut Vec<u8>) -> bool {
        if self.active == 0 && self.ping.is_none() {
            return false;
        }
        if std::str::from_utf8(data).is_err() {
            return false; // the twin would read U+FFFD there: not worth reasoning about
        }
        let found = match self.source {
            Source::OpenAi => delta::openai(data, &self.stops),
            Source::Anthropic => delta::anthropic(data, &self.stops),
        };
        match found {
            None => false,
            Some(Found::Ping) => match &self.ping {
                Some(ping) => {
                    out.extend_from_slice(ping);
                    true
                }
                None => false,
            },
            Some(Found::Delta { key, field, value }) => {
                let Some(route) = self.routes[..self.active]
                    .iter()
                    .find(|r| r.key == key && r.field == field)
                else {
                    return false;
                };
                let Some(prefix) = &route.prefix else {
                    return true;
                };
                // OpenAI's decoder skips an empty delta; Anthropic's passes it on
                if value.is_empty() && (!route.emit_empty || self.source == Source::OpenAi) {
                    return true;
                }
                out.extend_from_slice(prefix);
                dumps::write_str(&data[value.start..value.end], value.escaped, out);
                out.extend_from_slice(&route.suffix);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests;
