//! `PatternMatcher` (kernel `matcher`).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyStringMethods, PyTuple};

use super::args::Arg;
use super::errors::{InvalidArgumentError, InvalidPatternError};
use crate::core::matcher::{to_char_offsets, Match, Matcher};

/// Texts this long give the GIL back to other threads while they are searched.
const DETACH_BYTES: usize = 64 * 1024;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PatternMatcher>()
}

/// Literals (Aho-Corasick, leftmost-longest) and regexes, merged greedily.
#[pyclass(module = "lunaroute._native", name = "PatternMatcher", frozen)]
pub struct PatternMatcher {
    matcher: Matcher,
}

/// A sequence of str: any iterable of str except a single str (which would silently
/// become one pattern per character). With `reject_empty`, an empty item raises InvalidPatternError where it stands, so the
/// first bad item decides the error, as in the Python twin.
fn str_list(obj: &Arg<'_>, what: &str, reject_empty: bool) -> PyResult<Vec<String>> {
    let Arg::Given(obj) = obj else {
        return Ok(Vec::new());
    };
    if obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a sequence of str, not a str"
        )));
    }
    let mut out = Vec::new();
    for item in obj.try_iter()? {
        let item = item?;
        let Ok(s) = item.cast::<PyString>() else {
            return Err(PyTypeError::new_err(format!(
                "{what} must hold str, not {}",
                item.get_type().name()?
            )));
        };
        let text = s.to_str().map_err(|_| {
            InvalidPatternError::new_err(format!(
                "{what} pattern {:?} is not valid Unicode",
                out.len()
            ))
        })?;
        if reject_empty && text.is_empty() {
            return Err(InvalidPatternError::new_err(format!(
                "literal {} is empty",
                out.len()
            )));
        }
        out.push(text.to_owned());
    }
    Ok(out)
}

impl PatternMatcher {
    fn search(&self, py: Python<'_>, text: &str) -> Vec<Match> {
        if text.len() >= DETACH_BYTES {
            py.detach(|| self.matcher.find_all(text))
        } else {
            self.matcher.find_all(text)
        }
    }
}

fn to_list<'py>(py: Python<'py>, matches: &[Match]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for m in matches {
        list.append(PyTuple::new(py, [m.id as usize, m.start, m.end])?)?;
    }
    Ok(list)
}

#[pymethods]
impl PatternMatcher {
    #[new]
    #[pyo3(
        signature = (literals = Arg::Omitted, regexes = Arg::Omitted, case_insensitive = None),
        text_signature = "(literals=(), regexes=(), case_insensitive=False)"
    )]
    fn new(
        literals: Arg<'_>,
        regexes: Arg<'_>,
        case_insensitive: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let literals = str_list(&literals, "literals", true)?;
        let regexes = str_list(&regexes, "regexes", false)?;
        let fold = match case_insensitive {
            Some(flag) => flag.is_truthy()?,
            None => false,
        };
        let matcher = Matcher::new(&literals, &regexes, fold, super::scan::level())
            .map_err(|e| InvalidPatternError::new_err(e.to_string()))?;
        Ok(PatternMatcher { matcher })
    }

    /// (pattern_id, start, end) with code-point offsets into `text`.
    fn find_all<'py>(&self, text: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let py = text.py();
        let Ok(s) = text.cast::<PyString>() else {
            return Err(PyTypeError::new_err(format!(
                "find_all() takes str, not {}",
                text.get_type().name()?
            )));
        };
        let utf8 = s.to_str().map_err(|_| {
            InvalidArgumentError::new_err("text contains lone surrogates (not valid Unicode)")
        })?;
        let mut found = self.search(py, utf8);
        // Offsets differ from byte offsets only when the text has non-ASCII characters.
        if !found.is_empty() && s.code_point_len()? != utf8.len() {
            to_char_offsets(utf8, &mut found);
        }
        to_list(py, &found)
    }

    /// (pattern_id, start, end) with byte offsets into UTF-8 `data`.
    fn find_all_bytes<'py>(&self, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let py = data.py();
        if data.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(
                "find_all_bytes() takes bytes, not str",
            ));
        }
        // bytes as is; anything else through bytes(data), as the Python twin does
        let owned = match data.cast::<PyBytes>() {
            Ok(b) => b.clone(),
            Err(_) => py
                .get_type::<PyBytes>()
                .call1((data,))?
                .cast_into::<PyBytes>()?,
        };
        let bytes = owned.as_bytes();
        let text = std::str::from_utf8(bytes)
            .map_err(|e| InvalidArgumentError::new_err(format!("data is not valid UTF-8: {e}")))?;
        let found = self.search(py, text);
        to_list(py, &found)
    }

    #[getter]
    fn pattern_count(&self) -> usize {
        self.matcher.pattern_count()
    }
}
