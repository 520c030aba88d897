"""Run the SIMD-backed kernels over a fixed set of inputs; print the level in use and a digest.

Run as a script in a subprocess (LUNAROUTE_SIMD is read once, when the Rust module loads):
tests/packaging/test_simd_dispatch.py compares the digest under every level with the pure
Python tier's. The inputs cross every vector width (16 and 32 bytes) with hits at every
offset, in the head, the blocks and the tail, for 1 to 16 delimiters.
"""

from __future__ import annotations

import hashlib
import json
import random

from lunaroute import kernels


def _find_any_cases(rng: random.Random) -> list[object]:
    out: list[object] = []
    alphabet = bytes(range(256))
    for n_delims in (1, 2, 3, 4, 7, 8, 16):
        delims = bytes(rng.sample(alphabet, n_delims))
        filler = bytes(b for b in alphabet if b not in delims)
        for size in (0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257):
            hay = bytearray(rng.choice(filler) for _ in range(size))
            out.append(kernels.find_any(bytes(hay), delims))
            for pos in range(size):
                probe = bytearray(hay)
                probe[pos] = delims[pos % n_delims]
                out.append(kernels.find_any(bytes(probe), delims))
                out.append(kernels.find_any(bytes(probe), delims, pos // 2, size - pos // 3))
    return out


def _json_cases() -> list[object]:
    pad = " " * 40
    bodies = [
        b'{"model":"gpt-4o","messages":[]}',
        ('{"messages":[{"role":"user","content":"' + "x" * 70 + '\\"model\\": 1"}],' + pad + '"model": "a"}').encode(),
        b'{"a":{"model":"inner"},"b":[{"model":1}],"model":null}',
        ('{"s":"' + "\\\\" * 33 + '","model":[1,2,{"x":"}"}]}').encode(),
        b'  {"model" :  12.5e3 , "z": true}',
        b'["model", 1]',
    ]
    return [kernels.top_level_span(b, b"model") for b in bodies]


def _stream_cases() -> list[object]:
    stream = b"".join(
        b"event: delta\r\ndata: " + (b"y" * n) + b"\n\n" + b": keep-alive\r\r" for n in (0, 15, 16, 31, 32, 33, 90)
    )
    framer = kernels.SseFramer()
    events = [framer.feed(stream[i : i + 7]) for i in range(0, len(stream), 7)]
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"x-h%d: %s\r\n" % (i, b"v" * i * 5) for i in range(12)) + b"\r\n"
    matcher = kernels.PatternMatcher(["secret", "token"], [r"sk-[a-z0-9]{8}"])
    text = ("lorem ipsum " * 9 + "sk-abcdef12 token " + "z" * 40 + "secret") * 3
    return [events, kernels.parse_response_head(head), matcher.find_all(text)]


def main() -> None:
    rng = random.Random(20240519)
    results = [_find_any_cases(rng), _json_cases(), _stream_cases()]
    digest = hashlib.sha256(json.dumps(results).encode()).hexdigest()
    print(json.dumps({"level": kernels.simd_level(), "scan": kernels.backend_of("scan"), "digest": digest}))


if __name__ == "__main__":
    main()
