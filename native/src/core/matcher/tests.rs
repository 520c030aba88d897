use super::regexes::PatternRegex;
use super::*;
use crate::core::scan::SimdLevel;

fn m(lits: &[&str], res: &[&str], ci: bool) -> Matcher {
    Matcher::new(lits, res, ci, SimdLevel::detect()).unwrap()
}

fn triples(v: Vec<Match>) -> Vec<(u32, usize, usize)> {
    v.into_iter().map(|m| (m.id, m.start, m.end)).collect()
}

#[test]
fn literals_leftmost_longest_non_overlapping() {
    let mm = m(&["he", "hello", "ll", "lo world"], &[], false);
    assert_eq!(triples(mm.find_all("hello world")), vec![(1, 0, 5)]);
    let mm = m(&["ab", "bc"], &[], false);
    assert_eq!(triples(mm.find_all("abcbc")), vec![(0, 0, 2), (1, 3, 5)]);
}

#[test]
fn ties_go_to_the_lowest_id() {
    let mm = m(&["Key", "key", "key"], &[], true);
    assert_eq!(
        triples(mm.find_all("a KEY b key")),
        vec![(0, 2, 5), (0, 8, 11)]
    );
    let mm = m(&["x", "abc", "ABC"], &[], true);
    assert_eq!(triples(mm.find_all("aBc")), vec![(1, 0, 3)]);
}

#[test]
fn case_folding_is_ascii_only_and_literals_only() {
    let mm = m(&["straße", "école"], &["secret"], true);
    // ASCII letters fold (S/s, E/e), É and é do not; the regex stays case-sensitive
    assert_eq!(
        triples(mm.find_all("STRAßE ÉCOLE école SECRET")),
        vec![(0, 0, 7), (1, 15, 21)]
    );
    let mm = m(&[], &["(?i)secret"], false);
    assert_eq!(triples(mm.find_all("SeCrEt")), vec![(0, 0, 6)]);
}

#[test]
fn merge_prefers_earliest_then_longest_then_lowest_id() {
    let mm = m(&["sk-abc"], &[r"sk-[a-z]+\d*", r"abc\d+"], false);
    // regex 1 is longer at the same start; regex 2 starts inside it and is skipped
    assert_eq!(triples(mm.find_all("key sk-abc123 x")), vec![(1, 4, 13)]);
    // same start, same length: the literal (id 0) wins over regex 1
    assert_eq!(triples(mm.find_all("sk-abc")), vec![(0, 0, 6)]);
    // an earlier start wins even when shorter
    let mm = m(&["ab"], &["bcde"], false);
    assert_eq!(triples(mm.find_all("abcde")), vec![(0, 0, 2)]);
}

#[test]
fn regex_empty_matches_are_skipped() {
    let mm = m(&[], &["a*"], false);
    assert_eq!(triples(mm.find_all("baab")), vec![(0, 1, 3)]);
}

#[test]
fn errors() {
    assert_eq!(
        Matcher::new(&["a", ""], &[] as &[&str], false, SimdLevel::detect()).err(),
        Some(PatternError::EmptyLiteral { index: 1 })
    );
    match Matcher::new(&["a"], &["(unclosed"], false, SimdLevel::detect()) {
        Err(PatternError::BadRegex { id: 1, .. }) => {}
        other => panic!("{:?}", other.err()),
    }
    let mm = m(&[], &[], false);
    assert_eq!(mm.pattern_count(), 0);
    assert!(mm.find_all("anything").is_empty());
}

#[test]
fn char_offsets() {
    let text = "é€ abc 😀 abc";
    let mm = m(&["abc"], &[], false);
    let mut found = mm.find_all(text);
    assert_eq!(triples(found.clone()), vec![(0, 6, 9), (0, 15, 18)]);
    to_char_offsets(text, &mut found);
    assert_eq!(triples(found), vec![(0, 3, 6), (0, 9, 12)]);
    assert_eq!(count_chars("a😀é".as_bytes()), 3);
    // long enough for several 255-block rounds, with every kind of sequence
    let long: String = "aé€😀".repeat(3000) + "xyz";
    for cut in [0, 1, 15, 16, 17, 4079, 4080, 4081, 12345, long.len()] {
        let mut end = cut.min(long.len());
        while !long.is_char_boundary(end) {
            end -= 1;
        }
        assert_eq!(
            count_chars(&long.as_bytes()[..end]),
            long[..end].chars().count()
        );
    }
}

/// The plain search, as the contract defines it: leftmost-first, left to right, empty
/// matches skipped (resume one character later).
fn reference(pattern: &str, text: &str) -> Vec<(usize, usize)> {
    let re = regex::Regex::new(pattern).unwrap();
    re.find_iter(text)
        .filter(|m| !m.is_empty())
        .map(|m| (m.start(), m.end()))
        .collect()
}

#[test]
fn skipping_regexes_find_what_the_plain_search_finds() {
    let patterns = [
        r"\b\d{3}-\d{2}-\d{4}\b",
        r"\b(?:\d[ -]?){13,16}\b",
        r"\+?\d{1,3}[ .-]\d{3}[ .-]\d{3,4}[ .-]\d{4}",
        r"\d*",
        r"(?:\d|)x?",
        r"[0-9]+(?:\.[0-9]+)?",
        r"\$\d+|€\d+",
        r"[A-Z]{2}\d{2}",
    ];
    let texts = [
        "call +1 555 123 4567 or 555-123-4567, ssn 123-45-6789, card 4111 1111 1111 1111.",
        "١٢٣-٤٥-٦٧٨٩ and １２３ and 12x 3.14 $5 €7 GB82 xx99",
        "",
        "no digits at all here, just prose about nothing in particular",
    ];
    for p in patterns {
        for level in SimdLevel::available() {
            let re = PatternRegex::new(p, level).unwrap();
            for t in texts {
                let mut got = Vec::new();
                re.find_all(t, 0, &mut got);
                let got: Vec<(usize, usize)> = got.iter().map(|m| (m.start, m.end)).collect();
                assert_eq!(got, reference(p, t), "{p} on {t:?}");
            }
        }
    }
    assert!(
        PatternRegex::new(r"\b(?:\d[ -]?){13,16}\b", SimdLevel::detect())
            .unwrap()
            .skips()
    );
    assert!(!PatternRegex::new(r"sk-[a-z]+", SimdLevel::detect())
        .unwrap()
        .skips());
    assert!(!PatternRegex::new(r"[a-z]+@[a-z]+", SimdLevel::detect())
        .unwrap()
        .skips());
}

#[test]
fn dense_candidates_fall_back_to_the_plain_search() {
    let text = "1 ".repeat(5000) + "12-34 5";
    let re = PatternRegex::new(r"\d{2}-\d{2}", SimdLevel::detect()).unwrap();
    assert!(re.skips());
    let mut got = Vec::new();
    re.find_all(&text, 3, &mut got);
    assert_eq!(
        got,
        vec![Match {
            id: 3,
            start: 10000,
            end: 10005
        }]
    );
}

#[test]
fn folded_literals_match_like_ascii_case_insensitive() {
    let lits = ["PassWord", "é", "ÉCOLE", "key", "KEY"];
    let mm = m(&lits, &[], true);
    let text = "my PASSWORD, password and École/ÉCOLE/écOLE; Key é";
    let ac = aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .ascii_case_insensitive(true)
        .build(lits)
        .unwrap();
    let want: Vec<(u32, usize, usize)> = ac
        .find_iter(text)
        .map(|m| (m.pattern().as_u32(), m.start(), m.end()))
        .collect();
    assert_eq!(triples(mm.find_all(text)), want);
    assert_eq!(want.len(), 7);
}
