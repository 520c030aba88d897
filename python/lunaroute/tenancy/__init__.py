"""Tenancy: client API keys (`keys.py`: create/list/delete, argon2id hashes; `auth.py`:
request authentication), and the per-key limits built on them.

Submodules are imported where they are used, so loading one never drags in the others.
"""
