use super::*;

/// The span on every SIMD level, which must all agree.
fn span(body: &[u8], key: &[u8]) -> Result<Option<(usize, usize)>, SpanError> {
    let all: Vec<_> = SimdLevel::available()
        .into_iter()
        .map(|level| JsonSpanFinder::new(level).top_level_span(body, key))
        .collect();
    for other in &all[1..] {
        assert_eq!(other, &all[0]);
    }
    all[0]
}

fn value<'a>(body: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    span(body, key).unwrap().map(|(s, e)| &body[s..e])
}

const CHAT: &[u8] = br#"{"messages":[{"role":"user","content":"say \"model\": hi"}],"model":"gpt-4o-mini","temperature":0.2,"stream":true,"meta":{"model":"inner"}}"#;

#[test]
fn finds_each_kind_of_value() {
    assert_eq!(value(CHAT, b"model"), Some(&br#""gpt-4o-mini""#[..]));
    assert_eq!(value(CHAT, b"temperature"), Some(&b"0.2"[..]));
    assert_eq!(value(CHAT, b"stream"), Some(&b"true"[..]));
    assert_eq!(value(CHAT, b"meta"), Some(&br#"{"model":"inner"}"#[..]));
    assert_eq!(
        value(CHAT, b"messages"),
        Some(&br#"[{"role":"user","content":"say \"model\": hi"}]"#[..])
    );
    assert_eq!(value(CHAT, b"role"), None); // nested only
    assert_eq!(value(CHAT, b"content"), None);
    assert_eq!(value(CHAT, b"absent"), None);
}

#[test]
fn whitespace_escapes_and_first_match() {
    let body = b" \r\n{ \"a\\\"b\" :\t[1, {\"k\": \"}\"}] , \"k\" : 12 ,\"k\":3 }\n";
    assert_eq!(value(body, b"a\\\"b"), Some(&b"[1, {\"k\": \"}\"}]"[..]));
    assert_eq!(value(body, b"k"), Some(&b"12"[..]));
    assert_eq!(value(b"{\"n\":-1.5e3}", b"n"), Some(&b"-1.5e3"[..]));
    assert_eq!(value(b"{\"n\":null", b"n"), Some(&b"null"[..])); // value runs to the end
    assert_eq!(value(b"{\"\":1}", b""), Some(&b"1"[..]));
    assert_eq!(value(b"{\"a\\\\\":1}", b"a\\\\"), Some(&b"1"[..]));
}

#[test]
fn not_an_object_at_top_level() {
    for body in [
        &b""[..],
        b"   ",
        b"[{\"a\":1}]",
        b"\"a\"",
        b"1",
        b"x{\"a\":1}",
    ] {
        assert_eq!(span(body, b"a"), Ok(None), "{body:?}");
    }
}

#[test]
fn unterminated_input_is_an_error() {
    assert_eq!(span(b"{\"abc", b"x"), Err(SpanError::UnterminatedString(1)));
    assert_eq!(span(b"{\"a\\", b"x"), Err(SpanError::UnterminatedString(1)));
    assert_eq!(
        span(b"{\"a\":\"x\\\"", b"a"),
        Err(SpanError::UnterminatedString(5))
    );
    assert_eq!(
        span(b"{\"a\":[1,2", b"a"),
        Err(SpanError::UnterminatedValue(5))
    );
    assert_eq!(
        span(b"{\"a\":{\"b\":[]", b"z"),
        Err(SpanError::UnterminatedValue(5))
    );
    // a key with nothing after its colon
    assert_eq!(span(b"{\"a\":  ", b"a"), Ok(None));
    assert_eq!(span(b"{\"a\":  ", b"b"), Ok(None));
}

#[test]
fn long_strings_cross_vector_blocks() {
    let filler = "x".repeat(100);
    for pad in 0..70 {
        let p = &filler[..pad];
        let body = format!(r#"{{"s":"{p}\"{p}\\","model":"m{p}","t":[{{"model":1}}]}}"#);
        let got = value(body.as_bytes(), b"model").unwrap();
        assert_eq!(got, format!("\"m{p}\"").as_bytes());
    }
}
