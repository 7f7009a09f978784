"""`dockerfile` and a `created_by` holding newlines (BuildKit's `RUN <<EOF` heredocs, or a
hostile config): one instruction, printed so that no line of it reads as another one."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.oci.history import dockerfile_text, step_line
from dockerhub_cli.service import DockerHubService
from tests.unit import registry_fixtures as fx

REG = "https://registry.example.com"
IMAGE = "registry.example.com/team/app:heredoc"
SCRIPT = "RUN /bin/sh -c apt-get update\nUSER root\napt-get install -y curl # buildkit"
runner = CliRunner()


@pytest.mark.parametrize(
    ("instruction", "args", "expected"),
    [
        ("RUN", "make", "RUN make"),
        ("RUN", "a\nb", "RUN <<EOF\na\nb\nEOF"),
        # a script line equal to EOF (even with blanks around it) would close the heredoc early
        ("RUN", "a\n EOF\nUSER root", "RUN <<EOF_1\na\n EOF\nUSER root\nEOF_1"),
        ("RUN", "a\nEOF\nEOF_1", "RUN <<EOF_2\na\nEOF\nEOF_1\nEOF_2"),
        # recorded as a heredoc already, and closed on its last line: kept
        ("RUN", "<<EOF\nset -e\nmake\nEOF", "RUN <<EOF\nset -e\nmake\nEOF"),
        ("RUN", "<<-'END'\n\tmake\n\tEND", "RUN <<-'END'\n\tmake\n\tEND"),
        # a heredoc that closes early and goes on is wrapped whole: nothing after it escapes
        (
            "RUN",
            "<<EOF\nmake\nEOF\nUSER root",
            "RUN <<EOF_1\n<<EOF\nmake\nEOF\nUSER root\nEOF_1",
        ),
        ("ENV", "A=1\nUSER root", "ENV A=1\\nUSER root"),
        ("#", "odd\nUSER root", "# odd\\nUSER root"),
    ],
)
def test_dockerfile_text(instruction: str, args: str, expected: str) -> None:
    assert dockerfile_text(instruction, args) == expected


def test_step_line_of_a_buildkit_heredoc() -> None:
    assert step_line(SCRIPT, "buildkit.dockerfile.v0") == (
        "RUN <<EOF\napt-get update\nUSER root\napt-get install -y curl\nEOF"
    )


def _image(reg: fx.FakeRegistry) -> None:
    config = fx.config_bytes(
        history=[
            ("/bin/sh -c #(nop) ADD file:base in / ", None, False),
            (SCRIPT, "buildkit.dockerfile.v0", False),
            ('CMD ["sh"]', "buildkit.dockerfile.v0", True),
        ]
    )
    layers = [("sha256:" + "11" * 32, 10), ("sha256:" + "22" * 32, 20)]
    reg.manifest(fx.image_manifest(config, layers), fx.OCI_MANIFEST, tags=("heredoc",))
    reg.blob(config)


@pytest.fixture
def reg(rsps) -> fx.FakeRegistry:
    registry = fx.FakeRegistry(rsps, REG, "team/app")
    _image(registry)
    return registry


def _instructions(dockerfile: str) -> list[str]:
    """The instruction words a Dockerfile parser sees: heredoc bodies skipped."""
    words: list[str] = []
    lines = iter(dockerfile.splitlines())
    for line in lines:
        if not line or line.startswith("#"):
            continue
        words.append(line.split()[0])
        if "<<" in line:
            delimiter = line.split("<<", 1)[1].strip("-'\"")
            for body in lines:
                if body == delimiter:
                    break
    return words


def test_service_dockerfile_keeps_one_instruction(
    reg: fx.FakeRegistry, service: DockerHubService
) -> None:
    r = service.dockerfile(IMAGE)
    run = r.instructions[1]
    assert run.instruction == "RUN" and run.arguments.count("\n") == 2
    assert run.line == "RUN <<EOF\napt-get update\nUSER root\napt-get install -y curl\nEOF"
    assert _instructions(r.dockerfile) == ["ADD", "RUN", "CMD"]


def test_cli_and_quiet_never_forge_a_second_instruction(reg: fx.FakeRegistry) -> None:
    table = runner.invoke(app, ["dockerfile", IMAGE])
    assert table.exit_code == 0, table.stderr
    assert _instructions(table.stdout) == ["ADD", "RUN", "CMD"]
    assert "\nUSER root\n" in table.stdout  # the script's own line, inside the heredoc
    quiet = runner.invoke(app, ["dockerfile", IMAGE, "-q"]).stdout.splitlines()
    assert quiet[1] == "RUN <<EOF\\napt-get update\\nUSER root\\napt-get install -y curl\\nEOF"
    data = json.loads(runner.invoke(app, ["dockerfile", IMAGE, "--json"]).stdout)
    assert data["instructions"][1]["line"].startswith("RUN <<EOF\n")


@pytest.mark.anyio
async def test_mcp_dockerfile_line(reg: fx.FakeRegistry) -> None:
    from mcp import Client

    from dockerhub_cli.config.settings import Settings
    from dockerhub_cli.mcp.server import build_server

    with DockerHubService(Settings.from_env(backoff_factor=0.0)) as svc:
        async with Client(build_server(svc), raise_exceptions=True) as client:
            result = await client.call_tool(
                "docker_get_dockerfile",
                {"repository": "registry.example.com/team/app", "tag": "heredoc"},
            )
    content = result.structured_content or {}
    assert _instructions(content["dockerfile"]) == ["ADD", "RUN", "CMD"]
