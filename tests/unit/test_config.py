"""Config validation: every bad file gets one line naming the file, the key and the reason."""

from pathlib import Path

import pytest

from launchready.config import ConfigError, load_config, parse_config

HERE = Path("launchready.toml")


def test_minimal_config_defaults_scope_to_target_hosts() -> None:
    config = parse_config({"target": {"url": "https://portal.example.com/"}}, HERE)
    assert config.target.url == "https://portal.example.com"
    assert config.scope_hosts() == {"portal.example.com", "www.portal.example.com"}
    assert config.scope.active is False


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"target": {"url": "ftp://x"}}, "target.url: "),
        (
            {"target": "https://x.test"},
            "target: must be a table ([target] with its keys), not a single value",
        ),
        (
            {"target": {"url": "https://x.test"}, "scope": {"actve": True}},
            "scope.actve: unknown key",
        ),
        (
            {"target": {"url": "https://x.test"}, "accounts": [{"name": "a", "password": "p"}]},
            "accounts[0]: 'password' holds a literal credential",
        ),
        (
            {"target": {"url": "https://x.test"}, "accounts": [{"name": "a", "token": "t"}]},
            "token_env",
        ),
        ({"target": {"url": "https://x.test", "resolve": {"x.test": "nope"}}}, "not an IP"),
        ({"target": {"url": "https://x.test"}, "scope": {"request_budget": 0}}, "request_budget"),
        (
            {
                "target": {"url": "https://x.test"},
                "actions": [{"name": "a", "path": "/", "account": "z"}],
            },
            "unknown account 'z'",
        ),
    ],
)
def test_bad_values_name_key_and_reason(data: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, HERE)
    message = str(caught.value)
    assert message.startswith("launchready.toml: ")
    assert expected in message


def test_files(tmp_path: Path) -> None:
    empty = tmp_path / "launchready.toml"
    empty.write_text("")
    with pytest.raises(ConfigError, match="is empty"):
        load_config(empty)

    empty.write_text("[target\nurl=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(empty)

    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml")

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.launchready.target]\nurl = "https://p.test"\n')
    config, path = load_config(pyproject)
    assert config.target.host == "p.test" and path == pyproject


def test_credentials_come_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LR_TEST_PASSWORD", "from-the-environment")
    config = parse_config(
        {
            "target": {"url": "https://x.test"},
            "accounts": [{"name": "alice", "password_env": "LR_TEST_PASSWORD"}],
        },
        HERE,
    )
    assert config.accounts[0].credential("password") == "from-the-environment"
    assert "from-the-environment" not in repr(config)
