"""Pure-Python twins of every kernel: the reference semantics and the fallback tier."""
