"""`ui.enabled` / `ui.bind` in server.yaml, and the `admin` scope of keys.json."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import yaml

from lunaroute.config import load_config, write_default_config
from lunaroute.config.vocabulary import DEFAULT_SCOPES, SCOPES
from lunaroute.errors import ConfigError
from lunaroute.tenancy.keys import create_key, list_keys

SAMPLE_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$3bDKw5Ie9fvUWfHrV0w7ik6A9KkQ0y1sXSMPbKZTYk0"


@pytest.fixture
def cfg_dir(tmp_path: Path) -> Path:
    target = tmp_path / "cfg"
    write_default_config(target)
    return target


def _with_ui(cfg_dir: Path, ui: object) -> None:
    path = cfg_dir / "server.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["ui"] = ui
    path.write_text(yaml.safe_dump(doc))


def test_ui_is_off_by_default_on_loopback_8082(cfg_dir: Path) -> None:
    ui = load_config(cfg_dir).ui
    assert (ui.enabled, ui.host, ui.port) == (False, "127.0.0.1", 8082)


def test_ui_section_is_read(cfg_dir: Path) -> None:
    _with_ui(cfg_dir, {"enabled": True, "bind": "0.0.0.0:9191", "session_hours": 2})
    ui = load_config(cfg_dir).ui
    assert (ui.enabled, ui.host, ui.port, ui.session_hours) == (True, "0.0.0.0", 9191, 2.0)


@pytest.mark.parametrize(
    ("ui", "expected"),
    [
        ({"bind": "nowhere"}, "server.yaml: ui.bind: expected host:port, got 'nowhere'"),
        ({"bind": "127.0.0.1:0"}, "server.yaml: ui.bind: port must be between 1 and 65535, got 0"),
        ({"enabled": "yes please"}, "server.yaml: ui.enabled:"),
        ({"theme": "dark"}, "server.yaml: ui.theme:"),
        ({"session_hours": 0}, "server.yaml: ui.session_hours:"),
        ("on", "server.yaml: ui:"),
    ],
)
def test_bad_ui_section_is_one_line_naming_the_field(cfg_dir: Path, ui: object, expected: str) -> None:
    _with_ui(cfg_dir, ui)
    with pytest.raises(ConfigError) as info:
        load_config(cfg_dir)
    assert str(info.value).startswith(expected)
    assert "\n" not in str(info.value)


def test_enabled_ui_may_not_share_a_port(cfg_dir: Path) -> None:
    listener_port = load_config(cfg_dir).listeners[0].port
    _with_ui(cfg_dir, {"enabled": True, "bind": f"127.0.0.1:{listener_port}"})
    with pytest.raises(ConfigError) as info:
        load_config(cfg_dir)
    assert str(info.value).startswith(f"server.yaml: ui.bind: port {listener_port} is already used by listeners[0]")
    _with_ui(cfg_dir, {"enabled": False, "bind": f"127.0.0.1:{listener_port}"})
    assert load_config(cfg_dir).ui.port == listener_port  # off: nothing listens there


def test_admin_scope_is_known_but_never_a_default(cfg_dir: Path) -> None:
    assert "admin" in SCOPES and "admin" not in DEFAULT_SCOPES
    keys = [
        {"id": "k_admin", "name": "ops", "key_hash": SAMPLE_HASH, "scopes": ["admin"]},
        {"id": "k_plain", "name": "ci", "key_hash": SAMPLE_HASH},
    ]
    (cfg_dir / "keys.json").write_bytes(orjson.dumps({"api_keys": keys}))
    by_id = {k.id: k for k in load_config(cfg_dir).keys}
    assert by_id["k_admin"].scopes == ("admin",)
    assert by_id["k_plain"].scopes == ("openai_ingress", "anthropic_ingress")


def test_keys_create_gives_admin_only_when_asked(cfg_dir: Path) -> None:
    _, plain = create_key(cfg_dir, "client")
    _, admin = create_key(cfg_dir, "ops", scopes=["admin"])
    assert "admin" not in plain.scopes
    assert admin.scopes == ("admin",)
    assert {k.id for k in list_keys(cfg_dir)} == {plain.id, admin.id}


def test_serve_checks_the_ui_address_before_starting(cfg_dir: Path) -> None:
    import socket

    from lunaroute.server.ports import BindError, bind_addresses, check_addresses_free

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    # The defaults (8080, 8081, 9090) may be taken on a shared machine: only the UI's may be.
    doc = yaml.safe_load((cfg_dir / "server.yaml").read_text())
    for listener in doc["listeners"]:
        listener["bind"] = f"127.0.0.1:{free_port()}"
    doc["observability"]["metrics"]["bind"] = f"127.0.0.1:{free_port()}"
    (cfg_dir / "server.yaml").write_text(yaml.safe_dump(doc))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _with_ui(cfg_dir, {"enabled": False, "bind": f"127.0.0.1:{port}"})
        assert all(what != "web UI listener" for _, _, what in bind_addresses(load_config(cfg_dir)))
        _with_ui(cfg_dir, {"enabled": True, "bind": f"127.0.0.1:{port}"})
        config = load_config(cfg_dir)
        assert ("127.0.0.1", port, "web UI listener") in bind_addresses(config)
        with pytest.raises(BindError, match=f"127.0.0.1:{port} \\(web UI listener\\) is already in use"):
            check_addresses_free(config)
