use super::*;

/// Everything a run of feeds produced: the data, or the error, and the final state.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    data: Result<Vec<u8>, ChunkedError>,
    done: bool,
    trailing: Vec<u8>,
    buffered: usize,
}

fn run(pieces: &[&[u8]], max_size_line: usize) -> Outcome {
    let mut d = ChunkedDecoder::new(max_size_line);
    let mut out = Vec::new();
    let mut spans = Vec::new();
    let mut data = Ok(());
    for piece in pieces {
        spans.clear();
        data = d.feed(piece, &mut spans);
        if data.is_err() {
            break;
        }
        for s in &spans {
            out.extend_from_slice(&piece[s.clone()]);
        }
    }
    Outcome {
        data: data.map(|()| out),
        done: d.is_done(),
        trailing: d.trailing().to_vec(),
        buffered: d.buffered(),
    }
}

fn whole(input: &[u8]) -> Outcome {
    run(&[input], DEFAULT_MAX_SIZE_LINE)
}

/// `input` fed whole, byte by byte, and cut in two at every position: all must agree.
fn split_invariant(input: &[u8], max_size_line: usize) -> Outcome {
    let expected = run(&[input], max_size_line);
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(run(&bytes, max_size_line), expected, "byte by byte");
    for cut in 0..=input.len() {
        let (a, b) = input.split_at(cut);
        assert_eq!(run(&[a, b], max_size_line), expected, "cut at {cut}");
    }
    expected
}

fn decoded(input: &[u8]) -> Vec<u8> {
    let got = split_invariant(input, DEFAULT_MAX_SIZE_LINE);
    assert!(got.done, "{got:?}");
    got.data.unwrap()
}

fn failure(input: &[u8]) -> ChunkedError {
    split_invariant(input, DEFAULT_MAX_SIZE_LINE)
        .data
        .unwrap_err()
}

#[test]
fn typical_stream() {
    let body = b"6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n";
    assert_eq!(decoded(body), b"hello world");
    let got = whole(body);
    assert_eq!((got.trailing.len(), got.buffered), (0, 0));
}

#[test]
fn size_lines_accepted() {
    for (line, size) in [
        (&b"a"[..], 10usize),
        (b"A", 10),
        (b"00000000000000000000000000000a", 10),
        (b"a;name=value", 10),
        (b"a ; ext", 10),
        (b" \ta\t ", 10),
        (b"a\r\r", 10), // trailing CRs dropped, as the original rstrip(b"\r")
        (b"a;x\ry", 10),
        (b"a;", 10),
    ] {
        let mut input = line.to_vec();
        input.extend_from_slice(b"\n");
        input.extend(std::iter::repeat_n(b'z', size));
        input.extend_from_slice(b"\r\n0\n\r\n");
        assert_eq!(decoded(&input), vec![b'z'; size], "{line:?}");
    }
}

#[test]
fn size_lines_refused() {
    for line in [
        &b""[..],
        b"\r",
        b" ",
        b";a",
        b"g",
        b"0x5",
        b"0X5",
        b"5_0",
        b"+5",
        b"-5",
        b"\x0b5",
        b"5\x0c",
        b"5\r;x",
        b"5 5",
        b"\xa05",
    ] {
        let mut input = line.to_vec();
        input.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
        assert_eq!(failure(&input), ChunkedError::BadSize, "{line:?}");
    }
}

#[test]
fn size_limit_is_i64_max() {
    assert_eq!(parse_size_line(b"7fffffffffffffff"), Ok(i64::MAX as u64));
    assert_eq!(parse_size_line(b"0007FFFFFFFFFFFFFFF"), Ok(i64::MAX as u64));
    assert_eq!(
        parse_size_line(b"8000000000000000"),
        Err(ChunkedError::BadSize)
    );
    assert_eq!(
        parse_size_line(b"ffffffffffffffffff"),
        Err(ChunkedError::BadSize)
    );
    // a huge chunk streams through: everything fed is data
    let mut d = ChunkedDecoder::new(DEFAULT_MAX_SIZE_LINE);
    let mut spans = Vec::new();
    d.feed(b"7fffffffffffffff\r\nabc", &mut spans).unwrap();
    assert_eq!(spans, vec![18..21]);
    assert!(!d.is_done());
}

#[test]
fn size_line_length_bound() {
    let max = 16;
    let at_limit = b"5;xxxxxxxxxxxx\r\nhello\r\n0\r\n\r\n"; // 15 bytes before the LF
    assert_eq!(split_invariant(at_limit, 15).data.unwrap(), b"hello");
    assert_eq!(
        split_invariant(at_limit, 14).data,
        Err(ChunkedError::BadSizeLine)
    );
    // without a LF: refused once more than max bytes are held, not before
    assert_eq!(run(&[&[b'1'; 16]], max).buffered, 16);
    assert_eq!(
        run(&[&[b'1'; 17]], max).data,
        Err(ChunkedError::BadSizeLine)
    );
    assert_eq!(
        run(&[&[b'1'; 10], &[b'1'; 7]], max).data,
        Err(ChunkedError::BadSizeLine)
    );
    // the length is judged before the digits
    assert_eq!(
        split_invariant(b"zzzzzzzzzzzzzzzzz\r\n", max).data,
        Err(ChunkedError::BadSizeLine)
    );
}

#[test]
fn data_must_end_with_crlf() {
    for bad in [
        &b"5\r\nhelloX\n0\r\n\r\n"[..],
        b"5\r\nhello\rX0\r\n\r\n",
        b"5\r\nhello\n\r0\r\n\r\n",
        b"5\r\nhello\n0\r\n\r\n",
    ] {
        assert_eq!(failure(bad), ChunkedError::BadEncoding, "{bad:?}");
    }
    // one byte of the CRLF is held until the second arrives, right or wrong
    let got = whole(b"5\r\nhelloX");
    assert_eq!((got.data, got.buffered), (Ok(b"hello".to_vec()), 1));
}

#[test]
fn trailers_are_skipped_until_the_empty_line() {
    assert_eq!(
        decoded(b"3\r\nabc\r\n0\r\nX-A: 1\r\nX-B: 2\r\n\r\n"),
        b"abc"
    );
    assert_eq!(decoded(b"0\r\n\r\n"), b"");
    assert_eq!(decoded(b"0;ext\n\r\n"), b"");
    // trailer lines end with CRLF only: a bare LF is part of the line
    assert_eq!(decoded(b"0\r\n\n\r\nx\r\r\n\r\n"), b"");
    let got = split_invariant(b"0\r\n\n\r", DEFAULT_MAX_SIZE_LINE);
    assert!(!got.done);
    assert_eq!(got.buffered, 2);
    let got = split_invariant(b"0\r\nabc", DEFAULT_MAX_SIZE_LINE);
    assert_eq!((got.done, got.buffered), (false, 3));
}

#[test]
fn bytes_after_the_end_are_trailing() {
    let got = split_invariant(b"1\r\na\r\n0\r\n\r\nHTTP/1.1 200", DEFAULT_MAX_SIZE_LINE);
    assert_eq!(got.data.unwrap(), b"a");
    assert!(got.done);
    assert_eq!(got.trailing, b"HTTP/1.1 200");
    assert_eq!(got.buffered, 0);
}

#[test]
fn a_failed_decoder_stays_failed() {
    let mut d = ChunkedDecoder::new(DEFAULT_MAX_SIZE_LINE);
    let mut spans = Vec::new();
    assert_eq!(d.feed(b"zz\r\n", &mut spans), Err(ChunkedError::BadSize));
    assert_eq!(
        d.feed(b"5\r\nhello\r\n", &mut spans),
        Err(ChunkedError::BadSize)
    );
    assert_eq!(d.feed(b"", &mut spans), Err(ChunkedError::BadSize));
    assert_eq!((d.buffered(), d.is_done()), (0, false));
}

#[test]
fn partial_input_waits() {
    let body = b"1f\r\n0123456789012345678901234567890\r\n0\r\nT: v\r\n\r\n";
    for cut in 0..body.len() {
        let got = whole(&body[..cut]);
        assert!(got.data.is_ok() && !got.done, "cut {cut}");
    }
    assert!(whole(body).done);
}

#[test]
fn spans_point_into_the_input() {
    let mut d = ChunkedDecoder::new(DEFAULT_MAX_SIZE_LINE);
    let mut spans = Vec::new();
    d.feed(b"3\r\nabc\r\n2;x\r\nde\r\n4\r\nfg", &mut spans)
        .unwrap();
    assert_eq!(spans, vec![3..6, 13..15, 20..22]);
    spans.clear();
    d.feed(b"hi\r\n0\r\n\r\n", &mut spans).unwrap();
    assert_eq!(spans, vec![0..2]);
    assert!(d.is_done());
}

#[test]
fn error_messages() {
    assert_eq!(
        ChunkedError::BadSize.to_string(),
        "bad chunk size from upstream"
    );
    assert_eq!(
        ChunkedError::BadSizeLine.to_string(),
        "bad chunk size line from upstream"
    );
    assert_eq!(
        ChunkedError::BadEncoding.to_string(),
        "bad chunked encoding from upstream"
    );
}

/// A small deterministic generator (no rand dependency): xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}

#[test]
fn random_encodings_decode_in_random_pieces() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..200 {
        let payload: Vec<u8> = (0..rng.below(300)).map(|_| rng.next() as u8).collect();
        let mut encoded = Vec::new();
        let mut rest = &payload[..];
        while !rest.is_empty() {
            let n = (1 + rng.below(40)).min(rest.len());
            let size = if rng.below(2) == 0 {
                format!("{n:x}")
            } else {
                format!("{n:X}")
            };
            encoded.extend_from_slice(size.as_bytes());
            if rng.below(3) == 0 {
                encoded.extend_from_slice(b";ext=\"v\"");
            }
            encoded.extend_from_slice(b"\r\n");
            encoded.extend_from_slice(&rest[..n]);
            encoded.extend_from_slice(b"\r\n");
            rest = &rest[n..];
        }
        encoded.extend_from_slice(b"0\r\n");
        for _ in 0..rng.below(3) {
            encoded.extend_from_slice(b"X-T: 1\r\n");
        }
        encoded.extend_from_slice(b"\r\nNEXT");
        let mut pieces = Vec::new();
        let mut at = 0;
        while at < encoded.len() {
            let n = (1 + rng.below(20)).min(encoded.len() - at);
            pieces.push(&encoded[at..at + n]);
            at += n;
        }
        let got = run(&pieces, DEFAULT_MAX_SIZE_LINE);
        assert_eq!(got.data.as_deref(), Ok(&payload[..]));
        assert!(got.done);
        assert_eq!(got.trailing, b"NEXT");
    }
}

#[test]
fn random_bytes_never_panic_and_are_split_invariant() {
    let mut rng = Rng(42);
    let alphabet = b"0123456789aAfF;; \t\r\n\r\n\r\nxg-_";
    for _ in 0..300 {
        let input: Vec<u8> = (0..rng.below(40))
            .map(|_| alphabet[rng.below(alphabet.len() as u64)])
            .collect();
        split_invariant(&input, 1 + rng.below(8));
    }
}
