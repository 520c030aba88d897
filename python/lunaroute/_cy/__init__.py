"""Cython tier of the kernels (compiled from /cython/*.pyx at install)."""
