"""Pure-Python kernel `http1` (docs/KERNELS.md §6): response heads (head.py) and chunked
bodies (chunked.py)."""

from .chunked import ChunkedDecoder
from .head import FLAG_CHUNKED, FLAG_KEEP_ALIVE, parse_response_head

__all__ = ["parse_response_head", "ChunkedDecoder", "FLAG_CHUNKED", "FLAG_KEEP_ALIVE"]
