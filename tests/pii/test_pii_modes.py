"""Modes, the tokenize key file, the encrypted vault and the counters."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lunaroute.pii.vault import KEY_FILE, VAULT_FILE

from .engines import engine

TEXT = "Mail jane.doe@example.com, card 4111 1111 1111 1111, call (415) 555-0123, SSN 123-45-6789."
KEY = "sk-proj-Nc3icPatpvNATkJEMh2whjcxJgjSBCjfJMAKih9YeVaMl3yG"
TOKEN = re.compile(r"<([A-Z_]+)_[0-9a-f]{12}>")


def test_remove(tmp_path: Path) -> None:
    out, found = engine(tmp_path, mode="remove").redact_text(TEXT)
    assert out == ("Mail [REDACTED_EMAIL], card [REDACTED_CREDIT_CARD], call [REDACTED_PHONE], SSN [REDACTED_SSN].")
    assert [f.type for f in found] == ["email", "credit_card", "phone", "ssn"]
    assert found[0].value == "jane.doe@example.com" and TEXT[found[0].start : found[0].end] == found[0].value


def test_mask_hides_every_character_by_default(tmp_path: Path) -> None:
    out, _ = engine(tmp_path, mode="mask").redact_text(TEXT)
    assert out == "Mail ********************, card *******************, call **************, SSN ***********."


def test_mask_reveal_chars(tmp_path: Path) -> None:
    eng = engine(tmp_path, mode="mask", reveal_chars=4)
    assert eng.redact_text("card 4111 1111 1111 1111")[0] == "card ***************1111"
    # Never more than half of a value, whatever reveal_chars says.
    assert engine(tmp_path, mode="mask", reveal_chars=64).redact_text("password: hunter2")[0] == "password: ****er2"


def test_partial_keeps_the_shape(tmp_path: Path) -> None:
    eng = engine(tmp_path, mode="partial")
    out, _ = eng.redact_text(TEXT)
    assert out == "Mail j*******@example.com, card **** **** **** 1111, call (***) ***-0123, SSN ***-**-6789."
    masked = eng.redact_text(f"key {KEY}")[0]
    assert masked.startswith("key sk-proj-****") and masked.endswith("l3yG") and "Nc3ic" not in masked
    assert engine(tmp_path, mode="partial", reveal_chars=0).redact_text("SSN 123-45-6789")[0] == "SSN ***-**-****"


def test_tokens_are_stable_per_key_and_type(tmp_path: Path) -> None:
    one, _ = engine(tmp_path, mode="tokenize").redact_text(TEXT)
    again, _ = engine(tmp_path, mode="tokenize").redact_text(TEXT)
    assert one == again
    assert [m.group(1) for m in TOKEN.finditer(one)] == ["EMAIL", "CREDIT_CARD", "PHONE", "SSN"]
    other, _ = engine(tmp_path / "elsewhere", mode="tokenize").redact_text(TEXT)
    assert other != one and len(TOKEN.findall(other)) == 4
    twice, _ = engine(tmp_path, mode="tokenize").redact_text("a@example.com and a@example.com, b@example.com")
    tokens = TOKEN.finditer(twice)
    first, second, third = (m.group() for m in tokens)
    assert first == second != third


def test_key_file_is_created_private_and_kept(tmp_path: Path) -> None:
    engine(tmp_path, mode="tokenize")
    key = tmp_path / "keys" / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32
    before = key.read_bytes()
    engine(tmp_path, mode="tokenize")
    assert key.read_bytes() == before
    key.write_bytes(b"short")
    with pytest.raises(ValueError, match="exactly 32 raw bytes"):
        engine(tmp_path, mode="tokenize")


def test_other_modes_need_no_key(tmp_path: Path) -> None:
    for mode in ("remove", "mask", "partial"):
        engine(tmp_path, mode=mode)
    assert not (tmp_path / "keys").exists()


def test_vault_is_encrypted_private_and_restores(tmp_path: Path) -> None:
    eng = engine(tmp_path, mode="tokenize", restore_in_response=True)
    out, found = eng.redact_text(f"{TEXT} {KEY}")
    vault = tmp_path / "data" / "pii" / VAULT_FILE
    raw = vault.read_bytes()
    assert stat.S_IMODE(vault.stat().st_mode) == 0o600
    assert stat.S_IMODE(vault.parent.stat().st_mode) == 0o700
    for f in found:
        assert f.value.encode() not in raw
    assert b"EMAIL" not in raw  # tokens are sealed too
    assert eng.restore_text(out) == f"{TEXT} {KEY}"
    # A new engine (a restart) reads the vault back.
    assert engine(tmp_path, mode="tokenize", restore_in_response=True).restore_text(out) == f"{TEXT} {KEY}"
    # Without restore_in_response there is no vault and no restorer.
    plain = engine(tmp_path, mode="tokenize")
    assert plain.restorer() is None and plain.restore_text(out) == out


def test_vault_shared_by_processes(tmp_path: Path) -> None:
    here = engine(tmp_path, mode="tokenize", restore_in_response=True)
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from pathlib import Path
        from tests.pii.engines import engine
        eng = engine(Path({str(tmp_path)!r}), mode="tokenize", restore_in_response=True)
        print(eng.redact_text("write to other.process@example.org")[0])
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    redacted = done.stdout.strip()
    assert TOKEN.fullmatch(redacted.split()[-1])
    # This engine never saw that value: it finds the token in what the other process added.
    assert here.restore_text(redacted) == "write to other.process@example.org"


def test_vault_skips_damaged_records(tmp_path: Path) -> None:
    eng = engine(tmp_path, mode="tokenize", restore_in_response=True)
    first, _ = eng.redact_text("first@example.com")
    vault = tmp_path / "data" / "pii" / VAULT_FILE
    data = bytearray(vault.read_bytes())
    data[-1] ^= 0xFF  # the record's tag no longer verifies
    vault.write_bytes(bytes(data))
    second, _ = eng.redact_text("second@example.com")
    with open(vault, "ab") as f:
        f.write(b"\x00\x00\x01\x00partial")  # a record still being written by someone
    fresh = engine(tmp_path, mode="tokenize", restore_in_response=True)
    assert fresh.restore_text(first) == first  # damaged: left as the token
    assert fresh.restore_text(second) == "second@example.com"


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    from lunaroute.pii import PiiEngine

    from .engines import settings

    eng = PiiEngine.from_config(
        settings(mode="tokenize", restore_in_response=True), tmp_path / "keys", tmp_path / "data", persist=False
    )
    out, _ = eng.redact_text("x@example.com")
    assert eng.restore_text(out) == "x@example.com"
    assert not os.listdir(tmp_path)


def test_counters(tmp_path: Path) -> None:
    eng = engine(tmp_path, mode="remove")
    eng.redact_text(TEXT)
    redactor = eng.stream_redactor()
    redactor.feed("mail a@example.com and b@exa")
    redactor.feed("mple.com")
    redactor.flush()
    body = {"messages": [{"role": "user", "content": "call (415) 555-0123"}]}
    assert eng.redact_json(body) == 1
    assert eng.detections == {"email": 3, "credit_card": 1, "phone": 2, "ssn": 1}
    assert eng.redactions == 7
