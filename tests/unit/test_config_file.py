"""The TOML config file and the precedence flag > env > config > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerhub_cli.config.settings import DEFAULT_TTLS, Settings
from dockerhub_cli.errors import InvalidInputError
from tests.unit.clihelp import run, run_json

GOOD = """
platform = "linux/arm64"
timeout = 12
insecure_registries = ["registry.lan:5000"]

[cache]
dir = "/tmp/somewhere"
[cache.ttls]
tags = 60

[rate_limit]
per_minute = 30

[output]
json = false

[[registries]]
name = "ghcr"
url = "ghcr.io"
username = "octocat"
password_env = "GHCR_TOKEN"

[[registries]]
name = "lan"
url = "http://lan.example:5000"
insecure = true
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("DOCKERHUB_CONFIG", str(path))
    return path


def test_config_values_apply_with_sources(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text(GOOD)
    monkeypatch.delenv("DOCKERHUB_CACHE_DIR")
    s = Settings.from_env()
    assert s.platform == "linux/arm64" and s.sources["platform"] == "config"
    assert s.timeout == 12.0
    assert s.rate_limit_per_minute == 30 and s.sources["rate_limit_per_minute"] == "config"
    assert s.rate_limit_burst == 10 and s.sources["rate_limit_burst"] == "default"
    assert s.cache_dir == Path("/tmp/somewhere")
    assert s.ttls == {**DEFAULT_TTLS, "tags": 60}
    assert s.insecure_registries == {"registry.lan:5000", "lan.example:5000"}
    assert [r.name for r in s.registries] == ["ghcr", "lan"]
    assert s.config_file == config


def test_env_beats_config_and_flag_beats_env(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text('platform = "linux/arm64"\n')
    monkeypatch.setenv("DOCKERHUB_PLATFORM", "linux/s390x")
    s = Settings.from_env()
    assert (s.platform, s.sources["platform"]) == ("linux/s390x", "env DOCKERHUB_PLATFORM")
    s = Settings.from_env(platform="linux/ppc64le")
    assert (s.platform, s.sources["platform"]) == ("linux/ppc64le", "flag")


def test_default_location_is_user_config_dir(tmp_path: Path) -> None:
    path = tmp_path / "home/.config/dockerhub-cli/config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('platform = "linux/arm/v7"\n')
    assert Settings.from_env().platform == "linux/arm/v7"
    assert Settings.from_env(read_config=False).platform == "linux/amd64"
    assert run("config", "path").stdout.strip() == str(path)


def test_timeout_takes_decimal_seconds_from_the_file_and_the_environment(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`config show` prints the timeout as 30.0: 2.5 was refused as "not a whole number"."""
    config.write_text("timeout = 2.5\n")
    assert Settings.from_env().timeout == 2.5
    monkeypatch.setenv("DOCKERHUB_TIMEOUT", "0.5")
    assert Settings.from_env().timeout == 0.5
    for bad in ("soon", "0", "-1", "nan", "inf"):
        monkeypatch.setenv("DOCKERHUB_TIMEOUT", bad)
        with pytest.raises(InvalidInputError, match="DOCKERHUB_TIMEOUT"):
            Settings.from_env()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("colour = 1\n", "key 'colour': unknown key (valid: "),
        ("timeout = 'soon'\n", "key 'timeout': expected a number of seconds, got 'soon'"),
        ("timeout = 0\n", "key 'timeout': must be a number of seconds above 0"),
        ("timeout = -2.5\n", "key 'timeout': must be a number of seconds above 0"),
        ("timeout = inf\n", "key 'timeout': must be a number of seconds above 0"),
        ("timeout = true\n", "key 'timeout': expected a number of seconds"),
        ('platform = "arm64"\n', "key 'platform': expected os/arch[/variant]"),
        ("[rate_limit]\nper_second = 2\n", "key 'rate_limit.per_second': unknown key"),
        ("[cache.ttls]\nblobs = 5\n", "key 'cache.ttls.blobs': unknown cache (valid: "),
        ("[output]\njson = 'yes'\n", "key 'output.json': expected true or false"),
        (
            '[[registries]]\nname = "x"\nurl = "x.io"\npassword = "hunter2"\n',
            "key 'registries[0].password': plaintext secrets are not allowed",
        ),
        ('[[registries]]\nurl = "x.io"\n', "key 'registries[0].name': missing"),
        ('hub_url = "hub.docker.com"\n', "key 'hub_url': expected an http:// or https:// URL"),
        ("platform = \n", "not valid TOML"),
    ],
)
def test_invalid_config_is_one_clear_line_exit_2(config: Path, text: str, fragment: str) -> None:
    config.write_text(text)
    with pytest.raises(InvalidInputError) as info:
        Settings.from_env()
    assert str(config) in str(info.value) and fragment in str(info.value)
    result = run("whoami")
    assert result.exit_code == 2
    assert fragment in result.stderr and "hunter2" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 or len(result.stderr) > 80


def test_explicit_missing_config_is_an_error(config: Path) -> None:
    result = run("config", "show")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_config_show_sources_and_redaction(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text(GOOD)
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_supersecret")
    monkeypatch.setenv("DOCKERHUB_USERNAME", "alice")
    monkeypatch.setenv("GHCR_TOKEN", "ghp_alsosecret")
    data = run_json("config", "show")
    values = {v["key"]: (v["value"], v["source"]) for v in data["values"]}
    assert values["platform"] == ("linux/arm64", "config")
    assert values["token"] == ("<redacted>", "env DOCKERHUB_TOKEN")
    assert values["username"] == ("alice", "env DOCKERHUB_USERNAME")
    assert values["rate_limit_burst"] == ("10", "default")
    assert values["no_cache"][1] == "default"
    assert data["config_file"] == str(config)
    assert data["registries"][0]["password_set"] is True
    for args in (
        ("config", "show"),
        ("config", "show", "--json"),
        ("--no-cache", "config", "show"),
    ):
        result = run(*args)
        assert "supersecret" not in result.stdout and "alsosecret" not in result.stdout
    flagged = run_json("config", "show", "--offline")
    assert {v["key"]: v["source"] for v in flagged["values"]}["offline"] == "flag"
    table = run("config", "show").stdout
    assert "platform" in table and "config" in table


def test_config_registry_credentials_by_env_reference(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.write_text(GOOD)
    monkeypatch.setenv("GHCR_TOKEN", "ghp_secret")
    who = run_json("whoami", "ghcr")
    assert who["registry"] == "ghcr.io" and who["username"] == "octocat"
    assert "GHCR_TOKEN" in who["source"] and "ghp_secret" not in str(who)
    monkeypatch.delenv("GHCR_TOKEN")
    assert run_json("whoami", "ghcr.io")["authenticated"] is False


def test_output_json_default_from_config(config: Path) -> None:
    config.write_text("[output]\njson = true\n")
    result = run("whoami")
    assert result.stdout.lstrip().startswith("{")
    assert run("whoami", "-q").stdout.strip() == ""  # anonymous: no username; --quiet wins


def test_config_show_redacts_the_cache_backend_password_and_names_its_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKERHUB_CACHE_BACKEND", "redis://:r3dispw@127.0.0.1:6379/0")
    monkeypatch.setenv("DOCKERHUB_CIRCUIT_BREAKER", "1")
    for args in (("config", "show"), ("config", "show", "--json")):
        assert "r3dispw" not in run(*args).stdout
    values = {v["key"]: (v["value"], v["source"]) for v in run_json("config", "show")["values"]}
    assert values["cache_backend"] == (
        "redis://:***@127.0.0.1:6379/0",
        "env DOCKERHUB_CACHE_BACKEND",
    )
    assert values["circuit_breaker"] == ("true", "env DOCKERHUB_CIRCUIT_BREAKER")
    flagged = run_json("config", "show", "--cache-backend", "redis://:fl4gpw@127.0.0.1:6379/1")
    shown = {v["key"]: (v["value"], v["source"]) for v in flagged["values"]}
    assert shown["cache_backend"] == ("redis://:***@127.0.0.1:6379/1", "flag")
