use super::*;

type Ev = (String, String, String, Option<u64>);

fn own(e: Event<'_>) -> Ev {
    let t = String::from_utf8_lossy(e.event_type);
    (
        if t.is_empty() {
            "message".into()
        } else {
            t.into_owned()
        },
        String::from_utf8_lossy(e.data).into_owned(),
        String::from_utf8_lossy(e.id).into_owned(),
        e.retry,
    )
}

fn parser(max: usize) -> SseParser {
    SseParser::new(max, SimdLevel::detect())
}

fn feed(p: &mut SseParser, chunk: &[u8]) -> Result<Vec<Ev>, FramerError<()>> {
    let mut out = Vec::new();
    p.feed(chunk, &mut |e| {
        out.push(own(e));
        Ok(())
    })?;
    Ok(out)
}

fn parse_chunks(chunks: &[&[u8]]) -> Vec<Ev> {
    let mut p = parser(1 << 20);
    let mut out = Vec::new();
    for c in chunks {
        out.extend(feed(&mut p, c).unwrap());
    }
    out
}

fn ev(t: &str, d: &str, id: &str, r: Option<u64>) -> Ev {
    (t.into(), d.into(), id.into(), r)
}

#[test]
fn one_event_per_blank_line() {
    let got = parse_chunks(&[b"event: ping\ndata: a\ndata:b\n\ndata: c\n\n"]);
    assert_eq!(
        got,
        vec![ev("ping", "a\nb", "", None), ev("message", "c", "", None)]
    );
}

#[test]
fn line_endings_cr_lf_crlf_even_split() {
    let whole = parse_chunks(&[b"data: a\r\n\r\ndata: b\r\rdata: c\n\n"]);
    let split = parse_chunks(&[
        b"data: a\r",
        b"\n\r",
        b"\ndata: b\r",
        b"\r",
        b"data: c\n",
        b"\n",
    ]);
    let want = vec![
        ev("message", "a", "", None),
        ev("message", "b", "", None),
        ev("message", "c", "", None),
    ];
    assert_eq!(whole, want);
    assert_eq!(split, want);
    // CR then LF in the next chunk is one line ending, not a blank line
    assert_eq!(
        parse_chunks(&[b"data: x\r", b"\ndata: y\n\n"]),
        vec![ev("message", "x\ny", "", None)]
    );
}

#[test]
fn bom_dropped_once_even_when_split() {
    let want = vec![ev("message", "x", "", None)];
    assert_eq!(parse_chunks(&[b"\xef\xbb\xbfdata: x\n\n"]), want);
    assert_eq!(
        parse_chunks(&[b"\xef", b"\xbb", b"\xbf", b"data: x\n\n"]),
        want
    );
    assert_eq!(parse_chunks(&[b"", b"\xef\xbb", b"\xbfdata: x\n\n"]), want);
    // a second BOM is content: the field name becomes "\u{feff}data", ignored
    assert_eq!(
        parse_chunks(&[b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n"]),
        vec![]
    );
    // a BOM prefix that goes wrong is content too
    assert_eq!(
        parse_chunks(&[b"\xef\xbb", b"data: x\n\ndata: y\n\n"]),
        vec![ev("message", "y", "", None)]
    );
    let mut p = parser(100);
    feed(&mut p, b"\xef\xbb").unwrap();
    assert_eq!(p.buffered(), 0, "a possible BOM is not a buffered line");
}

#[test]
fn fields_comments_and_spaces() {
    let got =
        parse_chunks(&[b": comment\ndata\ndata:  two spaces\nevent:\nfoo: bar\nDATA: no\n\n"]);
    assert_eq!(got, vec![ev("message", "\n two spaces", "", None)]);
    // a `data:` with no value still makes a (empty) event
    assert_eq!(
        parse_chunks(&[b"data:\n\n"]),
        vec![ev("message", "", "", None)]
    );
    assert_eq!(
        parse_chunks(&[b"data\n\n"]),
        vec![ev("message", "", "", None)]
    );
}

#[test]
fn blank_line_without_data_dispatches_nothing_and_resets_type() {
    let got = parse_chunks(&[b"event: a\n\ndata: x\n\n"]);
    assert_eq!(got, vec![ev("message", "x", "", None)]);
}

#[test]
fn id_persists_and_rejects_nul() {
    let got = parse_chunks(&[b"id: 1\ndata: a\n\ndata: b\n\nid: 2\0x\ndata: c\n\nid\ndata: d\n\n"]);
    assert_eq!(
        got,
        vec![
            ev("message", "a", "1", None),
            ev("message", "b", "1", None),
            ev("message", "c", "1", None),
            ev("message", "d", "", None)
        ]
    );
}

#[test]
fn retry_rules() {
    let mut p = parser(1000);
    let got = feed(
        &mut p,
        b"retry: 1500\ndata: a\n\ndata: b\n\nretry: 15x\nretry:\nretry: -1\ndata: c\n\n",
    )
    .unwrap();
    assert_eq!(
        got,
        vec![
            ev("message", "a", "", Some(1500)),
            ev("message", "b", "", None),
            ev("message", "c", "", None)
        ]
    );
    assert_eq!(p.retry(), Some(1500));
    assert_eq!(parse_retry(b"18446744073709551615"), Some(u64::MAX));
    assert_eq!(parse_retry(b"18446744073709551616"), None);
    assert_eq!(parse_retry(b"0000000000000000000000000007"), Some(7));
    assert_eq!(parse_retry(b" 7"), None);
    assert_eq!(parse_retry(b"\xd9\xa1"), None);
}

#[test]
fn retry_in_block_survives_a_blank_line_without_data() {
    // Only a dispatch resets it (docs/KERNELS.md §1, read literally, as the Python twin does).
    let got = parse_chunks(&[b"retry: 5\n\ndata: x\n\ndata: y\n\n"]);
    assert_eq!(
        got,
        vec![
            ev("message", "x", "", Some(5)),
            ev("message", "y", "", None)
        ]
    );
}

#[test]
fn invalid_utf8_is_passed_through_for_replacement() {
    let got = parse_chunks(&[b"data: a\xff\xe2\x82\n", b"\n"]);
    assert_eq!(got, vec![ev("message", "a\u{fffd}\u{fffd}", "", None)]);
}

#[test]
fn close_discards_pending_but_interprets_last_line() {
    let mut p = parser(1000);
    assert_eq!(
        feed(&mut p, b"data: pending\n\ndata: lost\nretry: 42")
            .unwrap()
            .len(),
        1
    );
    assert_eq!(p.buffered(), 9);
    p.close::<()>().unwrap();
    assert_eq!(p.retry(), Some(42));
    assert_eq!(p.buffered(), 0);
    // fresh state: a BOM is dropped again, no leftover data, id kept
    let mut p2 = parser(1000);
    feed(&mut p2, b"id: 9\ndata: x").unwrap();
    p2.close::<()>().unwrap();
    assert_eq!(
        feed(&mut p2, b"\xef\xbb\xbfdata: y\n\n").unwrap(),
        vec![ev("message", "y", "9", None)]
    );
    // a final line after a CR: the LF of a new stream is not swallowed
    let mut p3 = parser(1000);
    feed(&mut p3, b"data: a\r").unwrap();
    p3.close::<()>().unwrap();
    assert_eq!(
        feed(&mut p3, b"\ndata: b\n\n").unwrap(),
        vec![ev("message", "b", "", None)]
    );
}

#[test]
fn close_with_only_a_partial_bom() {
    let mut p = parser(1000);
    feed(&mut p, b"\xef\xbb").unwrap();
    p.close::<()>().unwrap();
    assert_eq!(
        feed(&mut p, b"data: z\n\n").unwrap(),
        vec![ev("message", "z", "", None)]
    );
}

#[test]
fn too_long_lines_poison() {
    let mut p = parser(8);
    assert!(feed(&mut p, b"data: 12").is_ok()); // exactly 8 held
    assert_eq!(
        feed(&mut p, b"3"),
        Err(FramerError::LineTooLong { max_line_bytes: 8 })
    );
    assert!(p.is_poisoned());
    assert_eq!(p.buffered(), 0);
    assert!(feed(&mut p, b"\n\n").is_err());
    assert!(p.close::<()>().is_err());

    // a complete line inside one chunk counts too, and the chunk changes nothing
    let mut p = parser(8);
    feed(&mut p, b"id: a\n").unwrap();
    let r = feed(&mut p, b"id: b\nretry: 5\ndata: 123456789\n\n");
    assert!(matches!(r, Err(FramerError::LineTooLong { .. })));
    assert_eq!(p.last_event_id(), b"a");
    assert_eq!(p.retry(), None);

    // the terminator does not count
    let mut p = parser(8);
    assert_eq!(
        feed(&mut p, b"data: 12\r\n\r\n").unwrap(),
        vec![ev("message", "12", "", None)]
    );
}

#[test]
fn results_never_depend_on_chunking() {
    let stream: &[u8] = b"\xef\xbb\xbf: hi\r\nevent: content_block_delta\r\ndata: {\"a\":\"\xc3\xa9\xe2\x82\xac\"}\r\n\r\nid: 7\rretry: 300\rdata: x\r\rdata: \xff\n\ndata:y\n\n";
    let whole = parse_chunks(&[stream]);
    assert_eq!(whole.len(), 4);
    for size in 1..stream.len() {
        let chunks: Vec<&[u8]> = stream.chunks(size).collect();
        assert_eq!(parse_chunks(&chunks), whole, "chunk size {size}");
    }
    for cut1 in 0..stream.len() {
        for cut2 in cut1..stream.len() {
            let got = parse_chunks(&[&stream[..cut1], &stream[cut1..cut2], &stream[cut2..]]);
            assert_eq!(got, whole, "cuts {cut1} {cut2}");
        }
    }
}

#[test]
fn scalar_level_agrees() {
    let stream: &[u8] = b"data: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\nevent: e\ndata: b\n\n";
    let mut fast = parser(1000);
    let mut slow = SseParser::new(1000, SimdLevel::Scalar);
    assert_eq!(
        feed(&mut fast, stream).unwrap(),
        feed(&mut slow, stream).unwrap()
    );
}

#[test]
fn sink_errors_propagate() {
    let mut p = parser(100);
    let r = p.feed(b"data: a\n\n", &mut |_| Err("full"));
    assert_eq!(r, Err(FramerError::Sink("full")));
    assert!(!p.is_poisoned());
}
