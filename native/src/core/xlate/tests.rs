use super::*;

fn translator(source: Source) -> Translator {
    Translator::new(source, 1 << 20, SimdLevel::detect())
}

/// Everything `next` gives for the queued events: (bytes, handed-back event) steps, the
/// last with None.
type Step = (Vec<u8>, Option<(String, String)>);

fn drain(t: &mut Translator) -> Vec<Step> {
    let mut steps = Vec::new();
    loop {
        let mut out = Vec::new();
        let ev = t.next(&mut out).map(|h| {
            let name = if h.event_type.is_empty() {
                b"message"
            } else {
                h.event_type
            };
            (
                String::from_utf8_lossy(name).into_owned(),
                String::from_utf8_lossy(h.data).into_owned(),
            )
        });
        let done = ev.is_none();
        steps.push((out, ev));
        if done {
            return steps;
        }
    }
}

/// The bytes `data` translates to through route (key, field) = <, > with emit_empty, or
/// None when it is handed back.
fn through(source: Source, key: i64, field: i64, data: &str) -> Option<Vec<u8>> {
    let mut t = translator(source);
    t.route(key, field, Some(b"<"), b">", true);
    t.feed(format!("data: {data}\n\n").as_bytes()).unwrap();
    let mut out = Vec::new();
    match t.next(&mut out) {
        Some(_) => None,
        None => Some(out),
    }
}

fn openai(data: &str) -> Option<Vec<u8>> {
    through(Source::OpenAi, -1, 0, data)
}

fn anthropic(data: &str) -> Option<Vec<u8>> {
    through(Source::Anthropic, 0, 0, data)
}

fn text(value: &str) -> Option<Vec<u8>> {
    Some(format!("<{value}>").into_bytes())
}

#[test]
fn openai_content_deltas_are_translated() {
    assert_eq!(
        openai(
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"logprobs":null,"finish_reason":null}],"usage":null}"#
        ),
        text(r#""hi""#)
    );
    // an empty value is consumed and writes nothing, emit_empty or not: OpenAI's decoder
    // skips it
    assert_eq!(
        openai(r#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#),
        Some(Vec::new())
    );
    assert_eq!(
        openai(r#"{"choices":[{"delta":{"content":"x","tool_calls":null}}],"error":null}"#),
        text(r#""x""#)
    );
}

#[test]
fn openai_events_the_twin_hands_back_are_handed_back() {
    for data in [
        r#"{"choices":[]}"#,
        r#"{"choices":[{"delta":{"content":"a"}},{"delta":{"content":"b"}}]}"#,
        r#"{"choices":{"delta":{"content":"a"}}}"#,
        r#"{"choices":[{"index":1,"delta":{"content":"a"}}]}"#,
        r#"{"choices":[{"index":0.0,"delta":{"content":"a"}}]}"#,
        r#"{"choices":[{"index":true,"delta":{"content":"a"}}]}"#,
        r#"{"choices":[{"index":null,"delta":{"content":"a"}}]}"#,
        r#"{"choices":[{"delta":{"content":"a"},"finish_reason":"stop"}]}"#,
        r#"{"choices":[{"delta":{}}]}"#,
        r#"{"choices":[{"delta":{"role":"assistant"}}]}"#,
        r#"{"choices":[{"delta":{"content":null}}]}"#,
        r#"{"choices":[{"delta":{"content":7}}]}"#,
        r#"{"choices":[{"delta":{"content":"a","refusal":"no"}}]}"#,
        r#"{"choices":[{"delta":{"content":"a"}}],"usage":{"prompt_tokens":3}}"#,
        r#"{"choices":[{"delta":{"content":"a"}}],"error":false}"#,
        r#"{"choices":[{"delta":{"content":"a"}}]} x"#,
        r#"{"choices":[{"delta":{"content":"a"}}],"x":NaN}"#,
        r#"[{"choices":[{"delta":{"content":"a"}}]}]"#,
        "[DONE]",
        // a duplicated inspected key: the twin takes the last, this one hands back
        r#"{"choices":[{"delta":{"content":"a"}}],"choices":[]}"#,
        r#"{"choices":[{"delta":{"content":"a","content":"b"}}]}"#,
        // keys written with escapes are not looked into
        r#"{"choices":[{"delta":{"cont\u0065nt":"a"}}]}"#,
    ] {
        assert_eq!(openai(data), None, "{data}");
    }
}

#[test]
fn openai_tool_call_arguments_are_translated() {
    let call = |data: &str| through(Source::OpenAi, 2, 1, data);
    assert_eq!(
        call(
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":2,"function":{"arguments":"{\"a\""}}]}}]}"#
        ),
        text(r#""{\"a\"""#)
    );
    assert_eq!(
        call(
            r#"{"choices":[{"delta":{"content":"","tool_calls":[{"index":2,"type":"function","function":{"arguments":"x"}}]}}]}"#
        ),
        text(r#""x""#)
    );
    for data in [
        r#"{"choices":[{"delta":{"content":"a","tool_calls":[{"index":2,"function":{"arguments":"x"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":2,"function":{"arguments":"x"}},{"index":2,"function":{"arguments":"y"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":2,"function":{"arguments":1}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":2,"function":{"name":"f"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":2,"function":null}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":2}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":-2,"function":{"arguments":"x"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":"2","function":{"arguments":"x"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":5,"function":{"arguments":"x"}}]}}]}"#,
    ] {
        assert_eq!(call(data), None, "{data}");
    }
    // no index means 0
    assert_eq!(
        through(
            Source::OpenAi,
            0,
            1,
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"x"}}]}}]}"#
        ),
        text(r#""x""#)
    );
}

#[test]
fn anthropic_deltas_of_every_kind_are_translated() {
    for (field, kind, name) in [
        (0, "text_delta", "text"),
        (1, "input_json_delta", "partial_json"),
        (2, "thinking_delta", "thinking"),
        (3, "signature_delta", "signature"),
    ] {
        let data = format!(
            r#"{{"type":"content_block_delta","index":4,"delta":{{"type":"{kind}","{name}":"v"}}}}"#
        );
        assert_eq!(
            through(Source::Anthropic, 4, field, &data),
            text(r#""v""#),
            "{kind}"
        );
        // the value before the type, extra keys
        let data = format!(
            r#"{{"delta":{{"{name}":"w","x":[1],"type":"{kind}"}},"index":4,"type":"content_block_delta"}}"#
        );
        assert_eq!(
            through(Source::Anthropic, 4, field, &data),
            text(r#""w""#),
            "{kind}"
        );
    }
}

#[test]
fn anthropic_events_the_twin_hands_back_are_handed_back() {
    for data in [
        r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"x"}}"#,
        r#"{"type":"content_block_delta","index":"0","delta":{"type":"text_delta","text":"x"}}"#,
        r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}"#,
        r#"{"index":0,"delta":{"type":"text_delta","text":"x"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":1}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","thinking":"x"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","text":"x"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":"x"}"#,
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}"#,
        r#"{"type":"","index":0}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"},"type":"ping"}"#,
    ] {
        assert_eq!(anthropic(data), None, "{data}");
    }
}

#[test]
fn anthropic_empty_values_are_written_when_emit_empty() {
    let delta = |i: u8| {
        format!("data: {{\"type\":\"content_block_delta\",\"index\":{i},\"delta\":{{\"type\":\"text_delta\",\"text\":\"\"}}}}\n\n")
    };
    let mut t = translator(Source::Anthropic);
    t.route(0, 0, Some(b"<"), b">", true);
    t.route(1, 0, Some(b"("), b")", false);
    t.feed(format!("{}{}", delta(0), delta(1)).as_bytes())
        .unwrap();
    assert_eq!(drain(&mut t), vec![(b"<\"\">".to_vec(), None)]);
}

#[test]
fn pings_use_the_ping_bytes_only_when_set() {
    let mut t = translator(Source::Anthropic);
    t.feed(b"event: ping\ndata: {\"type\":\"ping\"}\n\n")
        .unwrap();
    assert_eq!(
        drain(&mut t),
        vec![
            (
                b"".to_vec(),
                Some(("ping".into(), "{\"type\":\"ping\"}".into()))
            ),
            (b"".to_vec(), None)
        ]
    );
    t.set_ping(Some(b"P"));
    t.feed(b"event: ping\ndata: {\"type\": \"ping\", \"extra\": [1, {\"a\": null}]}\n\n")
        .unwrap();
    assert_eq!(drain(&mut t), vec![(b"P".to_vec(), None)]);
    // a ping whose bytes are empty is consumed and writes nothing
    t.set_ping(Some(b""));
    t.feed(b"data: {\"type\":\"ping\"}\n\n").unwrap();
    assert_eq!(drain(&mut t), vec![(b"".to_vec(), None)]);
    // routes without ping bytes: the ping goes back
    t.set_ping(None);
    t.route(0, 0, Some(b"<"), b">", true);
    t.feed(b"data: {\"type\":\"ping\"}\n\n").unwrap();
    assert_eq!(
        drain(&mut t),
        vec![
            (
                b"".to_vec(),
                Some(("message".into(), "{\"type\":\"ping\"}".into()))
            ),
            (b"".to_vec(), None)
        ]
    );
}

#[test]
fn openai_streams_have_no_ping() {
    let mut t = translator(Source::OpenAi);
    t.set_ping(Some(b"P"));
    t.feed(b"data: {\"type\":\"ping\"}\n\n").unwrap();
    assert_eq!(
        drain(&mut t)[0].1.as_ref().map(|e| e.1.as_str()),
        Some("{\"type\":\"ping\"}")
    );
}

#[test]
fn values_are_written_as_orjson_writes_them() {
    for (raw, want) in [
        (r#""plain é 😀 /""#, "\"plain é 😀 /\""),
        (r#""\/\"\\""#, r#""/\"\\""#),
        (r#""\b\f\n\r\t""#, r#""\b\f\n\r\t""#),
        (
            r#""\u0000\u0001\u001F\u001f""#,
            r#""\u0000\u0001\u001f\u001f""#,
        ),
        (
            r#""\u0008\u000C\u000a\u0022\u005C\u002F""#,
            r#""\b\f\n\"\\/""#,
        ),
        (
            r#""\u007f\u2028\u00e9\ud83d\ude00""#,
            "\"\u{7f}\u{2028}é😀\"",
        ),
        ("\"\u{7f}\"", "\"\u{7f}\""),
    ] {
        let data = format!(r#"{{"choices":[{{"delta":{{"content":{raw}}}}}]}}"#);
        assert_eq!(openai(&data), text(want), "{raw}");
    }
}

#[test]
fn invalid_values_are_handed_back() {
    for raw in [r#""\ud800""#, r#""\udc00x""#, "\"a\u{1}\"", r#""\x""#] {
        let data = format!(r#"{{"choices":[{{"delta":{{"content":{raw}}}}}]}}"#);
        assert_eq!(openai(&data), None, "{raw}");
    }
    // invalid UTF-8 anywhere in the data
    let mut t = translator(Source::OpenAi);
    t.route(-1, 0, Some(b"<"), b">", true);
    t.feed(b"data: {\"choices\":[{\"delta\":{\"content\":\"a\xff\"}}]}\n\n")
        .unwrap();
    let steps = drain(&mut t);
    assert_eq!(
        steps[0].1.as_ref().unwrap().1,
        "{\"choices\":[{\"delta\":{\"content\":\"a\u{fffd}\"}}]}"
    );
}

#[test]
fn routes_say_what_deltas_become() {
    let delta = |text: &str| {
        format!("data: {{\"choices\":[{{\"delta\":{{\"content\":\"{text}\"}}}}]}}\n\n")
    };
    let mut t = translator(Source::OpenAi);
    // empty values: dropped unless emit_empty
    t.route(-1, 0, Some(b"<"), b">", false);
    t.feed(format!("{}{}", delta(""), delta("a")).as_bytes())
        .unwrap();
    assert_eq!(drain(&mut t), vec![(b"<\"a\">".to_vec(), None)]);
    // a later route for the same (key, field) replaces the earlier one
    t.route(-1, 0, Some(b"["), b"]", true);
    t.feed(format!("{}{}", delta(""), delta("e")).as_bytes())
        .unwrap();
    assert_eq!(drain(&mut t), vec![(b"[\"e\"]".to_vec(), None)]);
    // no prefix: consumed, nothing written
    t.route(-1, 0, None, b"", true);
    t.feed(delta("b").as_bytes()).unwrap();
    assert_eq!(drain(&mut t), vec![(b"".to_vec(), None)]);
    // cleared: handed back, and routes set after a clear hold again
    t.clear();
    t.feed(delta("c").as_bytes()).unwrap();
    assert_eq!(drain(&mut t).len(), 2);
    t.route(-1, 0, Some(b"("), b")", false);
    t.feed(delta("d").as_bytes()).unwrap();
    assert_eq!(drain(&mut t), vec![(b"(\"d\")".to_vec(), None)]);
}

#[test]
fn translation_stops_at_the_first_handed_back_event_and_uses_routes_set_after_it() {
    let mut t = translator(Source::Anthropic);
    let d = |i: u8, v: &str| {
        format!("event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":{i},\"delta\":{{\"type\":\"text_delta\",\"text\":\"{v}\"}}}}\n\n")
    };
    t.route(0, 0, Some(b"<"), b">", true);
    t.feed(format!("{}{}{}", d(0, "a"), d(1, "b"), d(1, "c")).as_bytes())
        .unwrap();
    let mut out = Vec::new();
    let handed = t.next(&mut out).map(|h| h.event_type.to_vec());
    assert_eq!(out, b"<\"a\">");
    assert_eq!(handed, Some(b"content_block_delta".to_vec()));
    t.clear();
    t.route(1, 0, Some(b"{"), b"}", true);
    assert_eq!(drain(&mut t), vec![(b"{\"c\"}".to_vec(), None)]);
}

#[test]
fn framing_follows_the_sse_kernel() {
    let mut t = translator(Source::OpenAi);
    t.route(-1, 0, Some(b"<"), b">", true);
    // BOM, CRLF split across feeds, comments, data joined with \n, one byte at a time
    let wire = b"\xef\xbb\xbf: hi\r\ndata: {\"choices\":[{\"delta\":\r\ndata:{\"content\":\"a\"}}]}\r\n\r\nevent: x\rdata: [DONE]\r\r";
    let mut out = Vec::new();
    let mut handed = Vec::new();
    for b in wire.iter() {
        t.feed(std::slice::from_ref(b)).unwrap();
        while let Some(h) = t.next(&mut out) {
            handed.push((h.event_type.to_vec(), h.data.to_vec()));
        }
    }
    assert_eq!(out, b"<\"a\">");
    assert_eq!(handed, vec![(b"x".to_vec(), b"[DONE]".to_vec())]);
}

#[test]
fn a_too_long_line_queues_nothing_of_its_chunk_and_poisons() {
    let mut t = Translator::new(Source::OpenAi, 16, SimdLevel::detect());
    assert!(t.feed(b"data: [DONE]\n\n").is_ok());
    let err = t.feed(b"data: a\n\ndata: 0123456789abcdef\n\n");
    assert_eq!(err, Err(FramerError::LineTooLong { max_line_bytes: 16 }));
    assert!(t.is_poisoned());
    let steps = drain(&mut t);
    assert_eq!(
        steps,
        vec![
            (b"".to_vec(), Some(("message".into(), "[DONE]".into()))),
            (b"".to_vec(), None)
        ]
    );
    assert!(t.feed(b"\n").is_err());
}

#[test]
fn routes_kept_for_their_buffers_never_apply_after_a_clear() {
    let d = |i: u8| {
        format!("data: {{\"type\":\"content_block_delta\",\"index\":{i},\"delta\":{{\"type\":\"text_delta\",\"text\":\"v\"}}}}\n\n")
    };
    let mut t = translator(Source::Anthropic);
    t.route(1, 0, Some(b"<"), b">", true);
    t.route(2, 0, None, b"", true);
    t.clear();
    t.route(3, 0, Some(b"("), b")", true);
    t.feed(format!("{}{}{}", d(3), d(1), d(2)).as_bytes())
        .unwrap();
    let steps = drain(&mut t);
    assert_eq!(steps[0].0, b"(\"v\")");
    assert!(steps[0].1.is_some()); // index 1: its route was cleared
    assert!(steps[1].1.is_some()); // index 2 likewise
    assert_eq!(steps.len(), 3);
}
