//! What an event is, read the way the Python twin (`kernels/_py/xlate.py`) reads the parsed
//! JSON, straight off the text: a ping, one delta (route key, field, string value), or
//! `None` for everything the twin would hand back (and for whatever this reader is not
//! sure about, see `json.rs`).
//!
//! The twin looks keys up with `dict.get`, so a key present with `null` counts as absent,
//! and a duplicated key counts once, with its last value: any inspected key seen twice is
//! handed back here instead.

use super::json::{Scanner, Str, Val};
use crate::core::scan::Finder;

/// The route key of OpenAI's `delta.content` (tool calls use their own index).
pub const TEXT_KEY: i64 = -1;
/// Delta fields (model.stream's DELTA_*).
pub const FIELD_TEXT: i64 = 0;
pub const FIELD_ARGS: i64 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    Ping,
    Delta { key: i64, field: i64, value: Str },
}

/// Marks `bit` of `seen`; None when it was marked already (a duplicated key).
#[inline]
fn once(seen: &mut u8, bit: u8) -> Option<()> {
    if *seen & bit != 0 {
        return None;
    }
    *seen |= bit;
    Some(())
}

/// A chat.completion.chunk that is one delta of choice 0 and nothing else.
pub fn openai(data: &[u8], stops: &Finder) -> Option<Found> {
    let mut s = Scanner::new(data, stops);
    let mut seen = 0;
    let mut found = None;
    s.object(|s, key| match key {
        b"error" => {
            once(&mut seen, 1)?;
            s.null()
        }
        b"usage" => {
            once(&mut seen, 2)?;
            s.null()
        }
        b"choices" => {
            once(&mut seen, 4)?;
            found = Some(s.single(openai_choice)?);
            Some(())
        }
        _ => s.skip(),
    })?;
    s.end()?;
    found
}

fn openai_choice(s: &mut Scanner<'_>) -> Option<Found> {
    let mut seen = 0;
    let mut found = None;
    s.object(|s, key| match key {
        b"finish_reason" => {
            once(&mut seen, 1)?;
            s.null()
        }
        b"index" => {
            once(&mut seen, 2)?;
            (s.int()? == 0).then_some(())
        }
        b"delta" => {
            once(&mut seen, 4)?;
            found = Some(openai_delta(s)?);
            Some(())
        }
        _ => s.skip(),
    })?;
    found
}

/// `content` alone, or one tool call's `arguments` with at most an empty `content`.
fn openai_delta(s: &mut Scanner<'_>) -> Option<Found> {
    let mut seen = 0;
    let mut keys = 0;
    let mut content = Val::Absent;
    let mut call = None;
    s.object(|s, key| {
        keys += 1;
        match key {
            b"refusal" => {
                once(&mut seen, 1)?;
                s.null()
            }
            b"content" => {
                once(&mut seen, 2)?;
                content = s.value()?;
                Some(())
            }
            b"tool_calls" => {
                once(&mut seen, 4)?;
                call = s.value_or_null(|s| s.single(openai_call))?;
                Some(())
            }
            _ => s.skip(),
        }
    })?;
    if keys == 0 {
        return None;
    }
    match call {
        None => match content {
            Val::Str(value) => Some(Found::Delta {
                key: TEXT_KEY,
                field: FIELD_TEXT,
                value,
            }),
            _ => None,
        },
        Some((key, value)) => match content {
            Val::Absent | Val::Null => Some(()),
            Val::Str(v) if v.is_empty() => Some(()),
            _ => None,
        }
        .map(|()| Found::Delta {
            key,
            field: FIELD_ARGS,
            value,
        }),
    }
}

/// (position, arguments) of one tool call.
fn openai_call(s: &mut Scanner<'_>) -> Option<(i64, Str)> {
    let mut seen = 0;
    let mut position = 0;
    let mut args = None;
    s.object(|s, key| match key {
        b"index" => {
            once(&mut seen, 1)?;
            position = s.int()?;
            Some(())
        }
        b"function" => {
            once(&mut seen, 2)?;
            let mut seen_args = false;
            s.object(|s, key| match key {
                b"arguments" => {
                    if seen_args {
                        return None;
                    }
                    seen_args = true;
                    args = Some(s.str_value()?);
                    Some(())
                }
                _ => s.skip(),
            })
        }
        _ => s.skip(),
    })?;
    Some((position, args?))
}

/// Anthropic's delta kinds that have a normalized form, with the field that holds the
/// value, numbered as model.stream's DELTA_*.
const ANTHROPIC_KINDS: [(&[u8], &[u8]); 4] = [
    (b"text_delta", b"text"),
    (b"input_json_delta", b"partial_json"),
    (b"thinking_delta", b"thinking"),
    (b"signature_delta", b"signature"),
];

/// A `ping`, or a `content_block_delta` of a kind with a normalized form.
pub fn anthropic(data: &[u8], stops: &Finder) -> Option<Found> {
    let mut s = Scanner::new(data, stops);
    let bytes = s.bytes();
    let mut seen = 0;
    let mut ping = false;
    let mut index = Val::Absent;
    let mut delta = None;
    s.object(|s, key| match key {
        b"type" => {
            once(&mut seen, 1)?;
            let kind = s.str_value()?;
            if kind.escaped {
                return None;
            }
            match &bytes[kind.start..kind.end] {
                b"ping" => ping = true,
                b"content_block_delta" => {}
                _ => return None,
            }
            Some(())
        }
        b"index" => {
            once(&mut seen, 2)?;
            index = s.value()?;
            Some(())
        }
        b"delta" => {
            once(&mut seen, 4)?;
            delta = s.value_or_other(|s| anthropic_delta(s, bytes))?;
            Some(())
        }
        _ => s.skip(),
    })?;
    s.end()?;
    if seen & 1 == 0 {
        return None;
    }
    if ping {
        return Some(Found::Ping);
    }
    match (index, delta) {
        (Val::Int(key), Some((field, value))) => Some(Found::Delta { key, field, value }),
        _ => None,
    }
}

/// (field, value) of a delta object whose `type` has a normalized form.
fn anthropic_delta(s: &mut Scanner<'_>, bytes: &[u8]) -> Option<(i64, Str)> {
    let mut seen = 0;
    let mut kind = None;
    let mut values = [Val::Absent; 4];
    s.object(|s, key| {
        if key == b"type" {
            once(&mut seen, 1 << 4)?;
            kind = Some(s.str_value()?);
            return Some(());
        }
        match ANTHROPIC_KINDS.iter().position(|(_, field)| *field == key) {
            Some(f) => {
                once(&mut seen, 1 << f)?;
                values[f] = s.value()?;
                Some(())
            }
            None => s.skip(),
        }
    })?;
    let kind = kind?;
    if kind.escaped {
        return None;
    }
    let name = &bytes[kind.start..kind.end];
    let f = ANTHROPIC_KINDS.iter().position(|(k, _)| *k == name)?;
    match values[f] {
        Val::Str(value) => Some((f as i64, value)),
        _ => None,
    }
}

impl Scanner<'_> {
    /// `null` as None, else what `read` makes of the value.
    #[inline]
    fn value_or_null<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.lookahead() == Some(b'n') {
            self.null()?;
            return Some(None);
        }
        read(self).map(Some)
    }

    /// What `read` makes of an object; any other value is skipped, as None.
    #[inline]
    fn value_or_other<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<Option<T>> {
        if self.lookahead() == Some(b'{') {
            return read(self).map(Some);
        }
        self.skip()?;
        Some(None)
    }
}
