# cython: language_level=3, boundscheck=False, wraparound=False
# cython: cdivision=True, annotation_typing=False
"""Cython multi-pattern matcher: kernel `matcher` (docs/KERNELS.md §5).

Literals: an Aho-Corasick automaton over UTF-8 bytes, compiled to a dense DFA (every
node has a transition for every byte class, so the scan is one table load per byte).
Bytes that occur in no literal share class 0; with `case_insensitive`, A-Z share the
class of a-z (ASCII folding only, literals folded at build time).

Leftmost-longest, non-overlapping, ties to the lowest id: the scan records, for each start
position still open, the longest literal found starting there (a ring of
`ring_size > longest literal` slots tagged with their start). A start `s` is final once the
scan has passed `s + longest literal` (no later match can begin there), so the greedy
left-to-right choice runs `longest literal` bytes behind the scan, in memory bounded by
the longest literal whatever the text.

Matching on bytes gives the same matches as on code points: a literal's UTF-8 starts with
a lead byte, which never equals a continuation byte, so byte matches begin and end on
character boundaries; two matches at one start are prefixes of one another, so "longer"
means the same in bytes and in characters.

Regexes: Python `re`, each searched on its own exactly like the pure-Python twin (after an
empty match the search resumes one character later; empty matches are not reported).
"""
cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.list cimport PyList_Append
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport int32_t
from libc.stdlib cimport qsort
from libc.string cimport memcpy, memset

import re

from lunaroute.errors import InvalidArgumentError, InvalidPatternError

include "_bytes.pxi"

cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object o)
    const char* PyUnicode_AsUTF8AndSize(object o, Py_ssize_t* size) except NULL


cdef struct _Match:
    Py_ssize_t pid
    Py_ssize_t start
    Py_ssize_t end


cdef struct _Matches:
    _Match* items
    Py_ssize_t len
    Py_ssize_t cap


cdef struct _Trie:
    Py_ssize_t nodes
    int32_t* parent     # node -> parent node (-1 for the root)
    int32_t* depth      # node -> bytes from the root
    int32_t* term       # node -> lowest literal id ending there, -1 if none
    unsigned char* cls  # node -> class of the byte on the edge into it
    int32_t* path       # scratch: the previous literal's nodes by depth


cdef struct _Slot:
    Py_ssize_t start    # the start position this slot describes (-1: never written)
    int32_t length      # longest literal found so far starting there
    int32_t pid


cdef int _push(_Matches* m, Py_ssize_t pid, Py_ssize_t start, Py_ssize_t end) except -1:
    cdef Py_ssize_t cap
    cdef _Match* items
    if m.len == m.cap:
        cap = m.cap * 2 if m.cap else 64
        items = <_Match*>PyMem_Realloc(m.items, <size_t>cap * sizeof(_Match))
        if items == NULL:
            raise MemoryError("matcher results")
        m.items = items
        m.cap = cap
    m.items[m.len].pid = pid
    m.items[m.len].start = start
    m.items[m.len].end = end
    m.len += 1
    return 0


cdef int _merge_order(const void* a, const void* b) noexcept nogil:
    """(start, -(end - start), pattern_id): earliest, then longest, then lowest id."""
    cdef const _Match* x = <const _Match*>a
    cdef const _Match* y = <const _Match*>b
    if x.start != y.start:
        return -1 if x.start < y.start else 1
    if x.end != y.end:
        return -1 if x.end > y.end else 1
    if x.pid != y.pid:
        return -1 if x.pid < y.pid else 1
    return 0


cdef list _to_list(const _Match* items, Py_ssize_t n):
    cdef list out = []
    cdef Py_ssize_t i
    for i in range(n):
        PyList_Append(out, (items[i].pid, items[i].start, items[i].end))
    return out


cdef bint _ascii_bytes(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    cdef unsigned char acc = 0
    for i in range(n):
        acc |= p[i]
    return acc < 0x80


cdef void _bytes_to_chars(_Match* items, Py_ssize_t n, const unsigned char* p) noexcept nogil:
    """Byte offsets → code-point offsets, in place, for matches sorted by start.

    Code points are counted as the bytes that are not UTF-8 continuation bytes
    (surrogates encoded by "surrogatepass" count once too)."""
    cdef Py_ssize_t i, byte_pos = 0, char_pos = 0, target, k
    for k in range(n):
        for i in range(2):
            target = items[k].start if i == 0 else items[k].end
            while byte_pos < target:
                if (p[byte_pos] & 0xC0) != 0x80:
                    char_pos += 1
                byte_pos += 1
            if i == 0:
                items[k].start = char_pos
            else:
                items[k].end = char_pos


cdef bytes _ASCII_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                                          b"abcdefghijklmnopqrstuvwxyz")


cdef object _compile_regex(str source):
    try:
        return re.compile(source)
    except (re.error, OverflowError, RecursionError) as exc:
        raise InvalidPatternError(f"invalid regex {source!r}: {exc}") from None


@cython.final  # direct (inlinable) calls to its cdef methods, no vtable
cdef class PatternMatcher:
    """Finds non-overlapping matches of literals and regexes in one pass over a text."""

    # ---- the literal automaton (absent when there are no literals)
    cdef int32_t* _delta        # [state + class] -> next state; states are node * _classes
    cdef int32_t* _depth        # bytes from the root
    cdef int32_t* _term         # lowest literal id ending at the node, -1 if none
    cdef int32_t* _first_out    # the node itself if terminal, else its nearest terminal suffix
    cdef int32_t* _next_out     # the nearest terminal proper suffix of a node, -1 if none
    cdef Py_ssize_t _nodes
    cdef int _classes
    cdef unsigned char _class_of[256]
    cdef Py_ssize_t _longest    # bytes of the longest literal
    cdef Py_ssize_t _ring_mask  # ring size - 1 (a power of two > _longest)
    cdef Py_ssize_t _out_from   # premultiplied states >= this end some literal
    cdef unsigned char _starts[256]  # bytes with a transition out of the root
    # ---- the rest
    cdef Py_ssize_t _literal_count
    cdef list _regexes          # [(compiled pattern, pattern id)]
    cdef Py_ssize_t _count

    def __dealloc__(self):
        self._free_automaton()

    cdef void _free_automaton(self) noexcept:
        PyMem_Free(self._delta)
        PyMem_Free(self._depth)
        PyMem_Free(self._term)
        PyMem_Free(self._first_out)
        PyMem_Free(self._next_out)
        self._delta = NULL
        self._depth = NULL
        self._term = NULL
        self._first_out = NULL
        self._next_out = NULL
        self._nodes = 0

    def __init__(self, literals=(), regexes=(), case_insensitive=False):
        if isinstance(literals, (str, bytes)) or isinstance(regexes, (str, bytes)):
            raise TypeError("literals and regexes must be sequences of str, not a single string")
        literals = list(literals)
        regexes = list(regexes)
        for i, lit in enumerate(literals):
            if not isinstance(lit, str):
                raise TypeError(f"literal {i} must be a str, not {type(lit).__name__}")
            if not lit:
                raise InvalidPatternError(f"literal {i} is empty")
        for i, rx in enumerate(regexes):
            if not isinstance(rx, str):
                raise TypeError(f"regex {i} must be a str, not {type(rx).__name__}")
        self._free_automaton()
        if literals:
            self._build(literals, bool(case_insensitive))
        self._literal_count = len(literals)
        self._regexes = [(_compile_regex(rx), len(literals) + i) for i, rx in enumerate(regexes)]
        self._count = len(literals) + len(regexes)

    @property
    def pattern_count(self) -> int:
        return self._count

    # ------------------------------------------------------------------ building
    cdef _build(self, list literals, bint fold):
        cdef list keyed = []
        cdef bytes raw
        cdef const unsigned char* p
        cdef Py_ssize_t i, j, total = 1
        cdef int c, k
        cdef unsigned char used[256]
        cdef _Trie trie

        # Bytes of each literal (ASCII letters lowered when folding), with its id.
        memset(used, 0, 256)
        for i, lit in enumerate(literals):
            try:
                raw = (<str>lit).encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidPatternError(
                    f"literal {i} is not valid Unicode (a lone surrogate)") from None
            if fold:
                raw = raw.translate(_ASCII_LOWER)
            keyed.append((raw, i))
            p = <const unsigned char*>PyBytes_AS_STRING(raw)
            for j in range(PyBytes_GET_SIZE(raw)):
                used[p[j]] = 1
            total += PyBytes_GET_SIZE(raw)
        if total > 0x3FFFFFFF:
            raise InvalidPatternError("literals are too large together (over 1 GiB)")

        # Byte classes: 0 for bytes in no literal, then one per used byte.
        memset(self._class_of, 0, 256)
        k = 1
        for c in range(256):
            if used[c]:
                self._class_of[c] = k
                k += 1
        if fold:
            for c in range(0x41, 0x5B):   # A-Z take the class of a-z
                self._class_of[c] = self._class_of[c + 0x20]
        self._classes = k

        # Sorted (bytes, id): a literal shares its trie path with the previous one up to
        # their common prefix, and of equal literals the lowest id comes first.
        keyed.sort()
        trie.parent = <int32_t*>PyMem_Malloc(<size_t>total * sizeof(int32_t))
        trie.depth = <int32_t*>PyMem_Malloc(<size_t>total * sizeof(int32_t))
        trie.term = <int32_t*>PyMem_Malloc(<size_t>total * sizeof(int32_t))
        trie.cls = <unsigned char*>PyMem_Malloc(<size_t>total)
        trie.path = <int32_t*>PyMem_Malloc(<size_t>total * sizeof(int32_t))
        try:
            if (trie.parent == NULL or trie.depth == NULL or trie.term == NULL
                    or trie.cls == NULL or trie.path == NULL):
                raise MemoryError("matcher trie")
            self._grow_trie(&trie, keyed)
            self._compile_dfa(&trie, k)
        finally:
            PyMem_Free(trie.parent)
            PyMem_Free(trie.depth)
            PyMem_Free(trie.term)
            PyMem_Free(trie.cls)
            PyMem_Free(trie.path)

    cdef int _grow_trie(self, _Trie* trie, list keyed) except -1:
        """The trie of the sorted literals: one node per distinct prefix, root 0."""
        cdef bytes raw, prev = b""
        cdef const unsigned char* p
        cdef const unsigned char* q
        cdef Py_ssize_t n, j, common, nodes = 1
        cdef int32_t node
        trie.parent[0] = -1
        trie.depth[0] = 0
        trie.term[0] = -1
        trie.cls[0] = 0
        trie.path[0] = 0
        self._longest = 0
        for raw, pid in keyed:
            p = <const unsigned char*>PyBytes_AS_STRING(raw)
            q = <const unsigned char*>PyBytes_AS_STRING(prev)
            n = PyBytes_GET_SIZE(raw)
            common = 0
            while (common < n and common < PyBytes_GET_SIZE(prev)
                   and p[common] == q[common]):
                common += 1
            for j in range(common, n):   # trie.path[j]: the node for raw[:j]
                node = <int32_t>nodes
                nodes += 1
                trie.parent[node] = trie.path[j]
                trie.depth[node] = <int32_t>(j + 1)
                trie.term[node] = -1
                trie.cls[node] = self._class_of[p[j]]
                trie.path[j + 1] = node
            node = trie.path[n]
            if trie.term[node] < 0:
                trie.term[node] = pid    # sorted by (bytes, id): the lowest id comes first
            if n > self._longest:
                self._longest = n
            prev = raw
        trie.nodes = nodes
        n = 1
        while n <= self._longest:
            n *= 2
        self._ring_mask = n - 1
        return 0

    cdef int _compile_dfa(self, _Trie* trie, int k) except -1:
        """The trie → a dense DFA (Aho-Corasick failure links folded into transitions).

        Level by level (a failure target is always shallower, so its row is complete):
        a node's row starts as a copy of its failure target's row, then its own trie
        edges are written over it.

        Nodes are then renumbered so that every node at which some literal ends gets an
        id at or above `_out_from`: the scan tells "a match ends here" by one compare, no
        load. Transitions hold premultiplied targets (node * classes): one add, no
        multiply, on the per-byte dependency chain.
        """
        cdef Py_ssize_t nodes = trie.nodes
        cdef Py_ssize_t u, v, f, c, i, d, low, high, level_start, level_end
        cdef int32_t* raw = NULL      # raw[u * k + c]: target node (trie ids)
        cdef int32_t* fail = NULL
        cdef int32_t* order = NULL    # nodes by depth
        cdef Py_ssize_t* level = NULL # level[d]: first index in `order` of depth d
        cdef int32_t* first = NULL    # first terminal node on u's suffix chain (u included)
        cdef int32_t* nxt = NULL      # ... on its proper-suffix chain
        cdef int32_t* renum = NULL    # trie id → final id
        cdef int32_t* depth = trie.depth
        cdef int32_t* term = trie.term
        cdef Py_ssize_t longest = self._longest

        if <double>nodes * k > 0x7FFFFFFF // 2:
            raise InvalidPatternError("literals are too large together for one automaton")
        try:
            raw = <int32_t*>PyMem_Malloc(<size_t>nodes * k * sizeof(int32_t))
            fail = <int32_t*>PyMem_Malloc(<size_t>nodes * sizeof(int32_t))
            order = <int32_t*>PyMem_Malloc(<size_t>nodes * sizeof(int32_t))
            level = <Py_ssize_t*>PyMem_Malloc(<size_t>(longest + 2) * sizeof(Py_ssize_t))
            first = <int32_t*>PyMem_Malloc(<size_t>nodes * sizeof(int32_t))
            nxt = <int32_t*>PyMem_Malloc(<size_t>nodes * sizeof(int32_t))
            renum = <int32_t*>PyMem_Malloc(<size_t>nodes * sizeof(int32_t))
            if (raw == NULL or fail == NULL or order == NULL or level == NULL
                    or first == NULL or nxt == NULL or renum == NULL):
                raise MemoryError("matcher automaton")

            # Counting sort of the nodes by depth.
            memset(level, 0, <size_t>(longest + 2) * sizeof(Py_ssize_t))
            for u in range(nodes):
                level[depth[u] + 1] += 1
            for d in range(1, longest + 2):
                level[d] += level[d - 1]
            for u in range(nodes):     # level[d] runs ahead while filling, then is fixed
                order[level[depth[u]]] = <int32_t>u
                level[depth[u]] += 1
            for d in range(longest + 1, 0, -1):
                level[d] = level[d - 1]
            level[0] = 0

            fail[0] = 0
            first[0] = -1
            nxt[0] = -1
            memset(raw, 0, <size_t>k * sizeof(int32_t))
            for d in range(longest + 1):   # level[longest + 1] == nodes
                level_start = level[d]
                level_end = level[d + 1]
                if d > 0:
                    for i in range(level_start, level_end):
                        u = order[i]
                        memcpy(raw + u * k, raw + fail[u] * k, <size_t>k * sizeof(int32_t))
                if d == longest:
                    break
                # The edges into depth d + 1, then those nodes' failure links.
                for i in range(level_end, level[d + 2]):
                    v = order[i]
                    raw[trie.parent[v] * k + trie.cls[v]] = <int32_t>v
                for i in range(level_end, level[d + 2]):
                    v = order[i]
                    u = trie.parent[v]
                    f = 0 if u == 0 else raw[fail[u] * k + trie.cls[v]]
                    fail[v] = <int32_t>f
                    nxt[v] = <int32_t>f if term[f] >= 0 else nxt[f]
                    first[v] = <int32_t>v if term[v] >= 0 else nxt[v]

            # Final ids: nodes where nothing ends first (the root stays 0), the others after.
            low = 0
            for u in range(nodes):
                if first[u] < 0:
                    renum[u] = <int32_t>low
                    low += 1
            high = low
            for u in range(nodes):
                if first[u] >= 0:
                    renum[u] = <int32_t>high
                    high += 1
            self._out_from = low * k

            self._delta = <int32_t*>PyMem_Malloc(<size_t>nodes * k * sizeof(int32_t))
            self._depth = <int32_t*>PyMem_Malloc(<size_t>nodes * sizeof(int32_t))
            self._term = <int32_t*>PyMem_Malloc(<size_t>nodes * sizeof(int32_t))
            self._first_out = <int32_t*>PyMem_Malloc(<size_t>nodes * sizeof(int32_t))
            self._next_out = <int32_t*>PyMem_Malloc(<size_t>nodes * sizeof(int32_t))
            if (self._delta == NULL or self._depth == NULL or self._term == NULL
                    or self._first_out == NULL or self._next_out == NULL):
                raise MemoryError("matcher automaton")
            for u in range(nodes):
                v = renum[u]
                for c in range(k):
                    self._delta[v * k + c] = renum[raw[u * k + c]] * k
                self._depth[v] = depth[u]
                self._term[v] = term[u]
                self._first_out[v] = -1 if first[u] < 0 else renum[first[u]]
                self._next_out[v] = -1 if nxt[u] < 0 else renum[nxt[u]]
            self._nodes = nodes
            for c in range(256):
                # Bytes that leave the root: the only ones worth stopping at from there.
                self._starts[c] = self._delta[self._class_of[c]] != 0
            return 0
        finally:
            PyMem_Free(raw)
            PyMem_Free(fail)
            PyMem_Free(order)
            PyMem_Free(level)
            PyMem_Free(first)
            PyMem_Free(nxt)
            PyMem_Free(renum)

    # ------------------------------------------------------------------ literal scan
    cdef int _scan_literals(self, const unsigned char* p, Py_ssize_t n, _Matches* out) except -1:
        """Leftmost-longest non-overlapping literal matches, byte offsets, by start."""
        cdef const int32_t* delta = self._delta
        cdef const int32_t* depth = self._depth
        cdef const int32_t* term = self._term
        cdef const int32_t* first_out = self._first_out
        cdef const int32_t* next_out = self._next_out
        cdef const unsigned char* class_of = self._class_of
        cdef const unsigned char* starts = self._starts
        cdef Py_ssize_t mask = self._ring_mask, longest = self._longest
        cdef Py_ssize_t k = self._classes, out_from = self._out_from
        cdef Py_ssize_t i = 0, s, g = 0, limit, max_start = -1
        cdef int32_t state = 0, node
        cdef _Slot* slot
        cdef _Slot* ring = <_Slot*>PyMem_Malloc(<size_t>(mask + 1) * sizeof(_Slot))
        if ring == NULL:
            raise MemoryError("matcher ring")
        try:
            for s in range(mask + 1):
                ring[s].start = -1
            while i < n:
                if state == 0:
                    # At the root most bytes lead nowhere: skip them without the table.
                    while i < n and not starts[p[i]]:
                        i += 1
                    if i == n:
                        break
                # Starts at or before i - longest are final (any match still to come ends
                # after i, so starts after it): take them greedily, left to right. Done
                # before recording anything new, so the ring only ever holds the open
                # starts i - longest .. i.
                limit = i - longest
                if g <= limit:
                    if max_start < g:
                        g = limit + 1   # nothing recorded from g on
                    else:
                        g = self._take(ring, g, limit, out)
                state = delta[state + class_of[p[i]]]
                i += 1
                if state >= out_from:
                    # Every literal ending here, longest first: each is its start's best yet.
                    node = first_out[state // k]
                    while node >= 0:
                        s = i - depth[node]
                        slot = &ring[s & mask]
                        if slot.start != s or slot.length < depth[node]:
                            slot.start = s
                            slot.length = depth[node]
                            slot.pid = term[node]
                        if s > max_start:
                            max_start = s
                        node = next_out[node]
            if max_start >= g:
                self._take(ring, g, n - 1, out)
            return 0
        finally:
            PyMem_Free(ring)

    cdef Py_ssize_t _take(self, _Slot* ring, Py_ssize_t g, Py_ssize_t limit,
                          _Matches* out) except -1:
        """Greedy choice over the final starts g..limit; the next start still open."""
        cdef Py_ssize_t mask = self._ring_mask
        cdef _Slot* slot
        while g <= limit:
            slot = &ring[g & mask]
            if slot.start == g:
                _push(out, slot.pid, g, g + slot.length)
                g += slot.length
            else:
                g += 1
        return g

    # ------------------------------------------------------------------ regex scan
    cdef int _scan_regexes(self, str text, _Matches* out) except -1:
        cdef Py_ssize_t size = len(text), pos, start, end, pid
        for pattern, pid_obj in self._regexes:
            pid = pid_obj
            search = pattern.search
            pos = 0
            # After an empty match at p the search resumes at p + 1 (as Rust's find_iter
            # does), and empty matches themselves are never reported.
            while pos <= size:
                m = search(text, pos)
                if m is None:
                    break
                start, end = m.span()
                if start == end:
                    pos = end + 1
                    continue
                _push(out, pid, start, end)
                pos = end
        return 0

    # ------------------------------------------------------------------ merging
    cdef list _merge(self, _Matches* lits, _Matches* rxs, Py_ssize_t sources):
        """All candidates by (start, -(length), id), taken greedily without overlap."""
        cdef Py_ssize_t i, last_end = 0, kept = 0
        if sources == 0:
            return []
        if sources == 1:  # one source is already non-overlapping and ordered
            if lits.len:
                return _to_list(lits.items, lits.len)
            return _to_list(rxs.items, rxs.len)
        for i in range(lits.len):
            _push(rxs, lits.items[i].pid, lits.items[i].start, lits.items[i].end)
        qsort(rxs.items, <size_t>rxs.len, sizeof(_Match), _merge_order)
        for i in range(rxs.len):
            if rxs.items[i].start >= last_end:
                last_end = rxs.items[i].end
                rxs.items[kept] = rxs.items[i]
                kept += 1
        return _to_list(rxs.items, kept)

    cdef Py_ssize_t _regex_sources(self, _Matches* rxs) noexcept:
        """How many regexes contributed a match (only whether it is 0, 1 or more matters)."""
        cdef Py_ssize_t i, n = 0, last = -1
        for i in range(rxs.len):
            if rxs.items[i].pid != last:
                last = rxs.items[i].pid
                n += 1
        return n

    # ------------------------------------------------------------------ public API
    def find_all(self, text) -> list:
        """(pattern_id, start, end) in code points, non-overlapping, sorted by start."""
        cdef _Matches lits, rxs
        cdef const unsigned char* p
        cdef Py_ssize_t n
        cdef bytes encoded
        if not isinstance(text, str):
            raise TypeError(f"find_all() takes a str, not {type(text).__name__}")
        lits.items = NULL; lits.len = lits.cap = 0
        rxs.items = NULL; rxs.len = rxs.cap = 0
        try:
            if self._nodes and len(text):
                if PyUnicode_IS_ASCII(text):
                    p = <const unsigned char*>PyUnicode_AsUTF8AndSize(text, &n)
                    self._scan_literals(p, n, &lits)
                else:
                    encoded = (<str>text).encode("utf-8", "surrogatepass")
                    p = <const unsigned char*>PyBytes_AS_STRING(encoded)
                    self._scan_literals(p, PyBytes_GET_SIZE(encoded), &lits)
                    _bytes_to_chars(lits.items, lits.len, p)
            if self._regexes:
                self._scan_regexes(text, &rxs)
            return self._merge(&lits, &rxs,
                               (1 if lits.len else 0) + self._regex_sources(&rxs))
        finally:
            PyMem_Free(lits.items)
            PyMem_Free(rxs.items)

    def find_all_bytes(self, data) -> list:
        """Like find_all, on UTF-8 bytes, with byte offsets."""
        cdef Py_buffer view
        cdef _Matches lits, rxs
        cdef const unsigned char* p
        cdef Py_ssize_t n, i, chars
        cdef Py_ssize_t* byte_at = NULL
        cdef bint ascii
        if isinstance(data, str):
            raise TypeError("find_all_bytes() takes bytes, not str")
        try:
            _acquire_bytes(data, &view)
        except TypeError:
            _acquire_bytes(bytes(data), &view)   # what bytes() accepts, as the twin does
        lits.items = NULL; lits.len = lits.cap = 0
        rxs.items = NULL; rxs.len = rxs.cap = 0
        try:
            p = <const unsigned char*>view.buf
            n = view.len
            ascii = _ascii_bytes(p, n)
            text = None
            if not ascii or self._regexes:
                try:
                    text = PyUnicode_DecodeUTF8(<const char*>p, n, NULL)
                except UnicodeDecodeError as exc:
                    raise InvalidArgumentError(f"data is not valid UTF-8: {exc}") from None
            if self._nodes and n:
                self._scan_literals(p, n, &lits)
            if self._regexes:
                self._scan_regexes(text, &rxs)
                if rxs.len and not ascii:
                    # Code-point offsets → byte offsets through a table of character starts.
                    chars = len(text)
                    byte_at = <Py_ssize_t*>PyMem_Malloc(<size_t>(chars + 1) * sizeof(Py_ssize_t))
                    if byte_at == NULL:
                        raise MemoryError("matcher offsets")
                    chars = 0
                    for i in range(n):
                        if (p[i] & 0xC0) != 0x80:
                            byte_at[chars] = i
                            chars += 1
                    byte_at[chars] = n
                    for i in range(rxs.len):
                        rxs.items[i].start = byte_at[rxs.items[i].start]
                        rxs.items[i].end = byte_at[rxs.items[i].end]
            return self._merge(&lits, &rxs,
                               (1 if lits.len else 0) + self._regex_sources(&rxs))
        finally:
            PyMem_Free(byte_at)
            PyMem_Free(lits.items)
            PyMem_Free(rxs.items)
            PyBuffer_Release(&view)

    def __repr__(self) -> str:
        return (f"PatternMatcher(<{self._literal_count} literals>, "
                f"<{len(self._regexes or ())} regexes>)")
