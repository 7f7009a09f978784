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
    return f"# {args}" if instruction == "#" else f"{instruction} {args}"


def _tidy(instruction: str, args: str) -> str:
    if instruction in ("ADD", "COPY"):
        # classic: `ADD file:abc in / ` -> `ADD file:abc /`
        return re.sub(r"\s+in\s+(\S+)\s*$", r" \1", args).strip()
    if instruction == "EXPOSE":
        m = _EXPOSE_MAP.match(args)
        if m:
            return " ".join(p.removesuffix(":{}") for p in m.group(1).split())
    return args
