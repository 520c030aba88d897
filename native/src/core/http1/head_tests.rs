use super::*;
use crate::core::scan::{DelimSet, SimdLevel};

fn finders() -> Vec<Finder> {
    SimdLevel::available()
        .into_iter()
        .map(|level| Finder::new(DelimSet::new(b"\n").unwrap(), level))
        .collect()
}

/// The head parsed on every SIMD level, which must all agree.
fn parse(buf: &[u8], max_head: usize) -> Result<Option<ResponseHead<'_>>, HeadError> {
    let all: Vec<_> = finders()
        .iter()
        .map(|f| parse_response_head(buf, max_head, f))
        .collect();
    for other in &all[1..] {
        assert_eq!(other, &all[0]);
    }
    all.into_iter().next().unwrap()
}

fn ok(buf: &[u8]) -> ResponseHead<'_> {
    parse(buf, 65536).unwrap().unwrap()
}

fn pairs<'a>(head: &ResponseHead<'a>) -> Vec<(&'a [u8], &'a [u8])> {
    head.headers.iter().map(|h| (h.name, h.value)).collect()
}

const TYPICAL: &[u8] = b"HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\
Content-Type: application/json\r\nContent-Length: 1234\r\nConnection: keep-alive\r\n\
x-request-id: req_abc\r\nopenai-processing-ms: 312\r\nServer: cloudflare\r\n\r\nBODY";

#[test]
fn typical_head() {
    let h = ok(TYPICAL);
    assert_eq!(h.head_len, TYPICAL.len() - 4);
    assert_eq!(h.status, 200);
    assert_eq!(h.content_length, Some(1234));
    assert_eq!(h.flags, FLAG_KEEP_ALIVE);
    assert_eq!(h.headers.len(), 7);
    assert_eq!(
        pairs(&h)[1],
        (&b"Content-Type"[..], &b"application/json"[..])
    );
}

#[test]
fn incomplete_heads_wait_until_too_large() {
    for cut in 0..TYPICAL.len() - 4 {
        assert_eq!(parse(&TYPICAL[..cut], 65536), Ok(None), "cut {cut}");
    }
    assert_eq!(parse(b"HTTP/1.1 200 OK\r\n", 17), Ok(None));
    assert_eq!(parse(b"HTTP/1.1 200 OK\r\n", 16), Err(HeadError::TooLarge));
    // a terminator that has arrived is honoured whatever max_head says
    assert!(parse(b"HTTP/1.1 200 OK\r\n\r\n", 3).unwrap().is_some());
}

#[test]
fn status_lines() {
    assert_eq!(ok(b"HTTP/1.1 204\r\n\r\n").status, 204);
    assert_eq!(ok(b"HTTP/1.1 404 \r\n\r\n").status, 404);
    assert_eq!(ok(b"HTTP/1.0 000 x y\r\n\r\n").status, 0);
    assert_eq!(ok(b"HTTP/1.0 200 OK\r\n\r\n").flags, 0);
    assert_eq!(ok(b"HTTP/1.7 200 OK\r\n\r\n").flags, 0);
    for bad in [
        &b"\r\n\r\n"[..],
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 2000\r\n\r\n",
        b"HTTP/1.1 20\r\n\r\n",
        b"HTTP/1.1  200\r\n\r\n",
        b"HTTP/1.1 200\tOK\r\n\r\n",
        b"http/1.1 200 OK\r\n\r\n",
        b"HTTP/1.x 200 OK\r\n\r\n",
        b"HTTP/1.1 2a0 OK\r\n\r\n",
    ] {
        match parse(bad, 65536) {
            Err(HeadError::BadStatusLine(line)) => {
                assert_eq!(line, bad[..bad.len() - 4].to_vec())
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    let long = [b"X".repeat(200), b"\r\n\r\n".to_vec()].concat();
    assert_eq!(
        parse(&long, 65536),
        Err(HeadError::BadStatusLine(b"X".repeat(80)))
    );
}

#[test]
fn header_lines_are_split_stripped_and_skipped_like_the_python_client() {
    let h = ok(
        b"HTTP/1.1 200 OK\r\n  X-A \t:\x0b v a l \x0c\r\nno colon\r\n: empty name\r\n\
a:\r\nB:b:c\r\nX: one\nY: two\r\n\r\n",
    );
    assert_eq!(
        pairs(&h),
        vec![
            (&b"X-A"[..], &b"v a l"[..]),
            (b"a", b""),
            (b"B", b"b:c"),
            (b"X", b"one\nY: two"),
        ]
    );
}

#[test]
fn content_length_rules() {
    assert_eq!(ok(b"HTTP/1.1 200 OK\r\n\r\n").content_length, None);
    let dup = b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\nCONTENT-LENGTH: 007\r\n\r\n";
    assert_eq!(ok(dup).content_length, Some(7));
    let max = b"HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n";
    assert_eq!(ok(max).content_length, Some(i64::MAX as u64));
    for bad in [
        &b""[..],
        b"-1",
        b"+5",
        b"1_000",
        b"5 5",
        b"0x10",
        b"9223372036854775808",
        b"99999999999999999999999",
    ] {
        let buf = [b"HTTP/1.1 200 OK\r\nContent-Length: ", bad, b"\r\n\r\n"].concat();
        assert_eq!(
            parse(&buf, 65536),
            Err(HeadError::BadContentLength(bad.to_vec()))
        );
    }
    let conflict = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n";
    assert_eq!(
        parse(conflict, 65536),
        Err(HeadError::ConflictingContentLength(5, 6))
    );
}

#[test]
fn framing_flags_last_header_wins() {
    fn f(extra: &str) -> u8 {
        ok(format!("HTTP/1.1 200 OK\r\n{extra}\r\n").as_bytes()).flags
    }
    assert_eq!(
        f("Transfer-Encoding: gzip, CHUNKED\r\n"),
        FLAG_CHUNKED | FLAG_KEEP_ALIVE
    );
    assert_eq!(
        f("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"),
        FLAG_KEEP_ALIVE
    );
    assert_eq!(f("Connection: Close\r\n"), 0);
    assert_eq!(f("Connection: keep-alive, close\r\n"), 0);
    assert_eq!(f("Connection: close\r\nConnection: upgrade\r\n"), 0);
    assert_eq!(
        f("Connection: close\r\nConnection: Keep-Alive\r\n"),
        FLAG_KEEP_ALIVE
    );
    let old = ok(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(old.flags, FLAG_KEEP_ALIVE);
}

#[test]
fn first_terminator_wins_even_after_bare_cr_and_lf() {
    let h = ok(b"HTTP/1.1 200 OK\r\nA: \r\r\n\r\nB: c\r\n\r\n");
    assert_eq!(h.head_len, 25);
    assert_eq!(pairs(&h), vec![(&b"A"[..], &b""[..])]);
    let h = ok(b"HTTP/1.1 200 OK\r\n\n\r\n\r\n");
    assert_eq!(h.head_len, 22);
    assert!(h.headers.is_empty());
}

#[test]
fn bytes_repr_matches_python() {
    assert_eq!(py_bytes_repr(b"ab"), "b'ab'");
    assert_eq!(py_bytes_repr(b"it's"), "b\"it's\"");
    assert_eq!(py_bytes_repr(b"'\""), "b'\\'\"'");
    assert_eq!(
        py_bytes_repr(b"\\\t\n\r\x00\x7f\xff~ "),
        "b'\\\\\\t\\n\\r\\x00\\x7f\\xff~ '"
    );
}

#[test]
fn strip_is_python_bytes_strip() {
    assert_eq!(strip(b" \t\n\r\x0b\x0ca b\x0c\x0b\r\n\t "), b"a b");
    assert_eq!(strip(b"\x1c\xa0x\x85"), b"\x1c\xa0x\x85"); // not ASCII whitespace for bytes
    assert_eq!(strip(b"   "), b"");
}
