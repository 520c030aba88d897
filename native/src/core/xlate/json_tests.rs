use super::*;

/// Whether the scanner takes `text` as one whole value, with every SIMD level's string
/// search (all must agree).
fn accepts(text: &str) -> bool {
    let verdicts: Vec<bool> = SimdLevel::available()
        .into_iter()
        .map(|level| {
            let stops = string_stops(level);
            let mut s = Scanner::new(text.as_bytes(), &stops);
            s.skip().is_some() && s.end().is_some()
        })
        .collect();
    assert!(verdicts.iter().all(|&v| v == verdicts[0]), "{text:?}");
    verdicts[0]
}

fn value(text: &str) -> Option<Val> {
    let stops = string_stops(SimdLevel::detect());
    let mut s = Scanner::new(text.as_bytes(), &stops);
    let v = s.value()?;
    s.end()?;
    Some(v)
}

#[test]
fn valid_json_is_accepted() {
    for text in [
        "{}",
        " { } ",
        "[]",
        "[ 1 , -2.5e-3 , 0 , -0 , 1E5 , 1e+5 , 0.0 ]",
        "{\"a\":{\"b\":[true,false,null,\"x\"]}}",
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\ude00\"",
        "\"\u{7f}\u{2028}é😀\"",
        "\t\r\n{\"k\" :\n\"v\"}\n",
        "1e-400",
        "123456789012345678901234567890",
    ] {
        assert!(accepts(text), "{text:?}");
    }
}

#[test]
fn what_orjson_refuses_is_refused() {
    for text in [
        "",
        "{",
        "{\"a\":1,}",
        "[1,]",
        "[1 2]",
        "{\"a\" 1}",
        "{1:2}",
        "01",
        "-",
        "1.",
        ".5",
        "+1",
        "1e",
        "1e+",
        "NaN",
        "Infinity",
        "-Infinity",
        "1e400",
        "tru",
        "nul",
        "\"abc",
        "\"a\u{1}b\"",
        "\"tab\there\"",
        "\"\\x\"",
        "\"\\U0041\"",
        "\"\\u004G\"",
        "\"\\u00\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"\\ud800x\"",
        "{} x",
        "{}\u{b}",
        "\u{feff}{}",
    ] {
        assert!(!accepts(text), "{text:?}");
    }
}

#[test]
fn numbers_past_the_modest_range_are_refused() {
    assert!(accepts(&"9".repeat(64)));
    assert!(!accepts(&"9".repeat(65)));
    assert!(accepts("1e299"));
    assert!(!accepts("1e300")); // 1 integer digit + 300 > the bound, though orjson takes it
    assert!(!accepts("1e1000"));
    assert!(accepts("1e-999"));
}

#[test]
fn deep_nesting_is_refused() {
    let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
    let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
    assert!(accepts(&ok));
    assert!(!accepts(&deep));
}

#[test]
fn only_plain_non_negative_integers_are_ints() {
    assert_eq!(value("0"), Some(Val::Int(0)));
    assert_eq!(value(" 42 "), Some(Val::Int(42)));
    assert_eq!(
        value("999999999999999999"),
        Some(Val::Int(999_999_999_999_999_999))
    );
    for other in [
        "-0",
        "-1",
        "0.0",
        "1e0",
        "1E0",
        "1.5",
        "9999999999999999999",
    ] {
        assert_eq!(value(other), Some(Val::Other), "{other}");
    }
    assert_eq!(value("true"), Some(Val::Other));
    assert_eq!(value("null"), Some(Val::Null));
    assert_eq!(value("00"), None);
}

#[test]
fn strings_report_their_body_and_escapes() {
    assert_eq!(
        value("\"abc\""),
        Some(Val::Str(Str {
            start: 1,
            end: 4,
            escaped: false
        }))
    );
    assert_eq!(
        value("\"a\\nb\""),
        Some(Val::Str(Str {
            start: 1,
            end: 5,
            escaped: true
        }))
    );
}

#[test]
fn escapes_decode_to_code_points() {
    assert_eq!(escape(b"\\n"), Some((10, 2)));
    assert_eq!(escape(b"\\/"), Some((0x2f, 2)));
    assert_eq!(escape(b"\\u00E9"), Some((0xe9, 6)));
    assert_eq!(escape(b"\\uD83D\\uDE00"), Some((0x1f600, 12)));
    assert_eq!(escape(b"\\uDBFF\\uDFFF"), Some((0x10ffff, 12)));
    assert_eq!(escape(b"\\uD83D\\n"), None);
    assert_eq!(escape(b"\\uDE00"), None);
    assert_eq!(escape(b"\\"), None);
}

#[test]
fn object_hands_each_key_to_the_reader_and_refuses_escaped_keys() {
    let mut keys = Vec::new();
    let stops = string_stops(SimdLevel::detect());
    let mut s = Scanner::new(b" { \"a\" : 1 , \"b\":[2] } ", &stops);
    s.object(|s, k| {
        keys.push(k.to_vec());
        s.skip()
    })
    .unwrap();
    s.end().unwrap();
    assert_eq!(keys, vec![b"a".to_vec(), b"b".to_vec()]);

    let mut s = Scanner::new(b"{\"\\u0061\":1}", &stops);
    assert_eq!(s.object(|s, _| s.skip()), None);
}

#[test]
fn a_control_character_or_quote_anywhere_in_a_long_string_is_found() {
    let body = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-é€😀";
    for i in 0..body.len() {
        if !body.is_char_boundary(i) {
            continue;
        }
        let (a, b) = body.split_at(i);
        assert!(accepts(&format!("\"{a}{b}\"")));
        assert!(!accepts(&format!("\"{a}\u{1f}{b}\"")), "{i}");
        assert!(!accepts(&format!("\"{a}\"{b}\"")), "{i}");
        assert!(accepts(&format!("\"{a}\\n{b}\"")), "{i}");
        assert!(!accepts(&format!("\"{a}{b}")), "{i}");
    }
}

#[test]
fn the_word_test_finds_the_first_stop_byte_exactly() {
    // every byte value at every position of a word filled with every other byte value
    for fill in 0..=255u8 {
        for b in 0..=255u8 {
            for p in 0..8 {
                let mut bytes = [fill; 8];
                bytes[p] = b;
                let want = bytes.iter().position(|&c| STOPS[usize::from(c)]);
                let hits = stops_in(u64::from_le_bytes(bytes));
                let got = (hits != 0).then(|| (hits.trailing_zeros() / 8) as usize);
                assert_eq!(got, want, "{bytes:?}");
            }
        }
    }
}
