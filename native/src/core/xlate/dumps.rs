//! A string re-encoded as `orjson.dumps` writes it: `"` and `\` escaped, `\n \r \t \b \f`
//! as short escapes, the other characters below U+0020 as `\u00xx` (lowercase hex), and
//! everything else (U+007F, U+2028, non-ASCII) as raw UTF-8; `/` is not escaped.

use super::json::escape;

/// Appends the JSON string for the raw body `raw` of a string token that the scanner
/// accepted (valid UTF-8, no raw control characters, valid escapes). A body without
/// escapes is already in orjson's form.
pub fn write_str(raw: &[u8], escaped: bool, out: &mut Vec<u8>) {
    out.reserve(raw.len() + 2);
    out.push(b'"');
    if !escaped {
        out.extend_from_slice(raw);
    } else {
        let mut run = 0;
        let mut i = 0;
        while i < raw.len() {
            if raw[i] != b'\\' {
                i += 1;
                continue;
            }
            out.extend_from_slice(&raw[run..i]);
            let (cp, len) = escape(&raw[i..]).expect("the scanner checked every escape");
            write_char(cp, out);
            i += len;
            run = i;
        }
        out.extend_from_slice(&raw[run..]);
    }
    out.push(b'"');
}

fn write_char(cp: u32, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match cp {
        0x22 => out.extend_from_slice(b"\\\""),
        0x5c => out.extend_from_slice(b"\\\\"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        0x0a => out.extend_from_slice(b"\\n"),
        0x0d => out.extend_from_slice(b"\\r"),
        0x09 => out.extend_from_slice(b"\\t"),
        0..=0x1f => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(cp >> 4) as usize],
            HEX[(cp & 0xf) as usize],
        ]),
        _ => {
            let c = char::from_u32(cp).expect("surrogates were refused by the scanner");
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
}
