"""Build steps from an image config's history: `created_by` back into a Dockerfile line.

Pure parsing (no I/O): the `dockerfile` operation uses it to reconstruct a Dockerfile and the
renderers to show one step as a Dockerfile line.
"""

from __future__ import annotations

import re

INSTRUCTIONS = frozenset(
    {
        "FROM",
        "RUN",
        "CMD",
        "LABEL",
        "MAINTAINER",
        "EXPOSE",
        "ENV",
        "ADD",
        "COPY",
        "ENTRYPOINT",
        "VOLUME",
        "USER",
        "WORKDIR",
        "ARG",
        "ONBUILD",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
    }
)
_SHELL_PREFIX = re.compile(r"^(?:\|\d+(?:\s+\S+=\S*)*\s+)?/bin/(?:ba)?sh -c\s*")
_EXPOSE_MAP = re.compile(r"^map\[(.*)\]$")


def reconstruct_step(created_by: str, comment: str | None = None) -> tuple[str, str, str]:
    """(instruction, arguments, builder) for one history entry's `created_by`."""
    text = (created_by or "").strip()
    builder = "unknown"
    if (comment or "").startswith("buildkit.dockerfile") or text.endswith("# buildkit"):
        builder = "buildkit"
        text = text.removesuffix("# buildkit").rstrip()
    elif text.startswith(("/bin/sh -c", "/bin/bash -c", "|", "cmd /S /C")):
        builder = "classic"
    if not text:
        return "#", "(no command recorded)", builder
    if "#(nop)" in text and _SHELL_PREFIX.match(text):
        # Classic builder metadata or ADD/COPY: `/bin/sh -c #(nop)  CMD ["bash"]`.
        text = text.split("#(nop)", 1)[1].strip()
        word, _, rest = text.partition(" ")
        instruction = word.upper()
        if instruction not in INSTRUCTIONS:
            return "#", text, builder
        return instruction, _tidy(instruction, rest.strip()), builder
    shell = _SHELL_PREFIX.match(text)
    if shell:
        return "RUN", text[shell.end() :].strip(), builder
    word, _, rest = text.partition(" ")
    if word in INSTRUCTIONS:
        rest = rest.strip()
        if word == "RUN":
            inner = _SHELL_PREFIX.match(rest)
            if inner:
                rest = rest[inner.end() :].strip()
        return word, _tidy(word, rest), builder
    return "#", text, builder


def step_line(created_by: str, comment: str | None = None) -> str:
    """One history entry as a Dockerfile line (`RUN apt-get ...`, `# ...` when unknown)."""
    instruction, args, _ = reconstruct_step(created_by, comment)
    return dockerfile_text(instruction, args)


_HEREDOC_START = re.compile(r"<<-?([\"']?)([A-Za-z_][A-Za-z0-9_]*)\1")


def dockerfile_text(instruction: str, args: str) -> str:
    """One instruction as Dockerfile text, which only ever reads as that one instruction.

    A `created_by` may hold newlines (BuildKit records a `RUN <<EOF` heredoc's script so, and
    any builder may write anything): printed as they are, the second line would read as an
    instruction of its own (`USER root`, `COPY ...`). A RUN becomes a heredoc, the form
    Dockerfiles have for a multi-line script, closed by a delimiter that no line of the script
    equals; any other instruction, or a comment, keeps its newlines written `\\n`."""
    if "\n" not in args:
        return f"# {args}" if instruction == "#" else f"{instruction} {args}".rstrip()
    if instruction != "RUN":
        escaped = args.replace("\n", "\\n")
        return f"# {escaped}" if instruction == "#" else f"{instruction} {escaped}"
    lines = args.split("\n")
    if _single_heredoc(lines):
        return f"RUN {args}"  # recorded in heredoc form already, and closed where it ends
    delimiter, n = "EOF", 0
    seen = {line.strip() for line in lines}  # whitespace around it: a parser may strip it
    while delimiter in seen:
        n += 1
        delimiter = f"EOF_{n}"
    return "\n".join([f"RUN <<{delimiter}", *lines, delimiter])


def _single_heredoc(lines: list[str]) -> bool:
    """`<<EOF` (or `<<-EOF`, `<<"EOF"`) alone on the first line, its delimiter on the last
    line and on no line between: one heredoc, and nothing after it."""
    start = _HEREDOC_START.fullmatch(lines[0].strip())
    if start is None or len(lines) < 2:
        return False
    delimiter = start.group(2)
    strip_tabs = lines[0].strip().startswith("<<-")  # <<-: leading tabs are not part of a line

    last = lines[-1].lstrip("\t") if strip_tabs else lines[-1]
    return last == delimiter and not any(line.strip() == delimiter for line in lines[1:-1])


def _tidy(instruction: str, args: str) -> str:
    if instruction in ("ADD", "COPY"):
        # classic: `ADD file:abc in / ` -> `ADD file:abc /`
        return re.sub(r"\s+in\s+(\S+)\s*$", r" \1", args).strip()
    if instruction == "EXPOSE":
        m = _EXPOSE_MAP.match(args)
        if m:
            return " ".join(p.removesuffix(":{}") for p in m.group(1).split())
    return args
