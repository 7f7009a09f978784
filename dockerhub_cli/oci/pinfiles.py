"""Image references in files people deploy from: find them, and rewrite them in place.

Pure (text in, text out; no I/O). Four kinds of file:

* **dockerfile**: every `FROM` (with `--platform=`, `AS name`, line continuations), stage
  names (`FROM build`) and `scratch` are not images; `FROM ${BASE}` whose global `ARG BASE=...`
  default is a whole reference is pinned in the `ARG` line. Images named by `COPY --from=`
  and `RUN --mount=...,from=` too (a stage name or number there is not an image, and not
  listed).
* **compose**: `services.<name>.image`.
* **kubernetes**: every `containers`, `initContainers` and `ephemeralContainers` entry's
  `image`, wherever the pod spec sits (Pod, Deployment/StatefulSet/Job template, CronJob
  jobTemplate, List items, custom resources), in every document of the stream.
* **workflow** (GitHub Actions): `jobs.<id>.container` (a string or a mapping with `image`),
  `jobs.<id>.services.<name>.image` (or a string), and `docker://` step `uses:`.

YAML is parsed with ruamel.yaml's round-trip loader only to learn *where* each value is; the
rewrite replaces exactly those characters of the original text, so every other byte (comments,
quoting, key order, indentation, line endings) stays as it was. `apply_edits` re-parses the
result and checks each edited value reads back as intended.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Literal

FileKind = Literal["dockerfile", "compose", "kubernetes", "workflow"]
FILE_KINDS: tuple[FileKind, ...] = ("dockerfile", "compose", "kubernetes", "workflow")

POD_CONTAINER_KEYS = ("containers", "initContainers", "ephemeralContainers")
_VARIABLE_RE = re.compile(r"\$(?:\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)|\$\{\{")


class FileFormatError(ValueError):
    """The file cannot be read as the kind it was taken for (the message says why)."""


@dataclass(frozen=True)
class FoundReference:
    """One image reference in a file.

    `start`/`end` are character offsets of the reference text in the file (None when the text
    cannot be edited in place, see `problem`); `line` is 1-based. `where` names the place
    (`FROM`, `services.web.image`, `spec.containers[0].image`). `platform` is a
    `FROM --platform=` value. `text` is the reference as written (after `docker://`, inside
    quotes); `resolved` is the same with Dockerfile ARG defaults substituted, when they are.
    """

    line: int
    where: str
    text: str
    start: int | None
    end: int | None
    resolved: str | None = None
    platform: str | None = None
    problem: str | None = None
    skip: str | None = None  # why this is not an image to pin (stage name, scratch)

    @property
    def reference(self) -> str:
        return self.resolved if self.resolved is not None else self.text


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    new: str
    expect: str  # what the value must read as afterwards (YAML: the scalar value)


# -- kind detection ----------------------------------------------------------------------------


def detect_kind(path: str, text: str) -> FileKind | None:
    """The kind of file by its name, then by its content; None when it is none of them."""
    p = PurePath(path)
    name = p.name.lower()
    if (
        name in ("dockerfile", "containerfile")
        or name.startswith(("dockerfile.", "containerfile."))
        or name.endswith((".dockerfile", ".containerfile"))
    ):
        return "dockerfile"
    parts = [part.lower() for part in p.parts]
    is_yaml = name.endswith((".yml", ".yaml"))
    if is_yaml and len(parts) >= 3 and parts[-3:-1] == [".github", "workflows"]:
        return "workflow"
    if is_yaml and (name.startswith(("compose.", "docker-compose", "compose-"))):
        return "compose"
    if is_yaml:
        return _sniff_yaml(text)
    if _looks_like_dockerfile(text):
        return "dockerfile"
    return None


def _looks_like_dockerfile(text: str) -> bool:
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word = line.split(None, 1)[0].upper()
        return word in ("FROM", "ARG")
    return False


def _sniff_yaml(text: str) -> FileKind | None:
    try:
        docs = _load_all(text)
    except FileFormatError:
        return None
    mappings = [d for d in docs if isinstance(d, dict)]
    if any("apiVersion" in d and "kind" in d for d in mappings):
        return "kubernetes"
    if any("jobs" in d and ("on" in d or True in d) for d in mappings):
        return "workflow"
    if any(isinstance(d.get("services"), dict) for d in mappings):
        return "compose"
    return None


# -- finding references ------------------------------------------------------------------------


def find_references(kind: FileKind, text: str) -> list[FoundReference]:
    """Every image reference of a file of `kind`, in file order."""
    if kind == "dockerfile":
        return sorted(_dockerfile_references(text), key=lambda f: (f.line, f.start or 0))
    docs = _load_all(text)
    lines = _line_offsets(text)
    found: list[FoundReference] = []
    for doc in docs:
        if kind == "compose":
            found += _compose(doc, text, lines)
        elif kind == "kubernetes":
            found += list(_kubernetes(doc, text, lines, ""))
        else:
            found += _workflow(doc, text, lines)
    return sorted(found, key=lambda f: (f.line, f.start or 0))


def _load_all(text: str) -> list[Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="rt")
    try:
        return list(yaml.load_all(text))
    except YAMLError as exc:
        first = " ".join(str(exc).split())
        raise FileFormatError(f"not valid YAML: {first[:200]}") from None


def _line_offsets(text: str) -> list[int]:
    return [0, *(match.end() for match in re.finditer(r"\n", text))]


def _compose(doc: Any, text: str, lines: list[int]) -> list[FoundReference]:
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict):
        return []
    found = []
    for name, service in services.items():
        if isinstance(service, dict) and "image" in service:
            ref = _yaml_value(service, "image", text, lines, f"services.{name}.image")
            if ref is not None:
                found.append(ref)
    return found


def _kubernetes(node: Any, text: str, lines: list[int], path: str) -> Iterator[FoundReference]:
    """Walk the whole document: a pod spec is wherever a containers list of mappings is."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if key in POD_CONTAINER_KEYS and isinstance(value, list):
                for i, container in enumerate(value):
                    if isinstance(container, dict) and "image" in container:
                        ref = _yaml_value(container, "image", text, lines, f"{here}[{i}].image")
                        if ref is not None:
                            yield ref
            else:
                yield from _kubernetes(value, text, lines, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _kubernetes(item, text, lines, f"{path}[{i}]")


def _workflow(doc: Any, text: str, lines: list[int]) -> list[FoundReference]:
    jobs = doc.get("jobs") if isinstance(doc, dict) else None
    if not isinstance(jobs, dict):
        return []
    found: list[FoundReference] = []
    for job_id, job in jobs.items():
        if not isinstance(job, dict):
            continue
        base = f"jobs.{job_id}"
        container = job.get("container")
        if isinstance(container, str):
            found += _opt(_yaml_value(job, "container", text, lines, f"{base}.container"))
        elif isinstance(container, dict) and "image" in container:
            found += _opt(_yaml_value(container, "image", text, lines, f"{base}.container.image"))
        services = job.get("services")
        if isinstance(services, dict):
            for name, service in services.items():
                where = f"{base}.services.{name}"
                if isinstance(service, str):
                    found += _opt(_yaml_value(services, name, text, lines, where))
                elif isinstance(service, dict) and "image" in service:
                    found += _opt(_yaml_value(service, "image", text, lines, f"{where}.image"))
        steps = job.get("steps")
        if isinstance(steps, list):
            for i, step in enumerate(steps):
                uses = step.get("uses") if isinstance(step, dict) else None
                if isinstance(uses, str) and uses.startswith("docker://"):
                    ref = _yaml_value(
                        step, "uses", text, lines, f"{base}.steps[{i}].uses", prefix="docker://"
                    )
                    found += _opt(ref)
    return found


def _opt(ref: FoundReference | None) -> list[FoundReference]:
    return [ref] if ref is not None else []


def _yaml_value(
    mapping: Any, key: Any, text: str, lines: list[int], where: str, *, prefix: str = ""
) -> FoundReference | None:
    """Locate the scalar `mapping[key]` in `text`: its offsets, without quotes or `prefix`."""
    value = mapping[key]
    if value is None:
        return None
    if not isinstance(value, str):
        line0, _ = mapping.lc.value(key)
        return FoundReference(
            line0 + 1, where, str(value), None, None, problem="the value is not a string"
        )
    line0, col = mapping.lc.value(key)
    offset = lines[line0] + col
    shown = value.removeprefix(prefix)
    problem = None
    start = end = None
    first = text[offset : offset + 1]
    if first in ("'", '"'):
        inner_start = offset + 1
        close = text.find(first, inner_start)
        if close != -1 and text[inner_start:close] == value:
            start, end = inner_start, close
    elif first not in ("|", ">"):
        stop = offset + len(value)
        if text[offset:stop] == value:
            start, end = offset, stop
    if start is None or end is None:
        problem = "written in a YAML form pin does not edit (block scalar, escapes or line breaks)"
    else:
        start += len(prefix)
    if problem is None and _VARIABLE_RE.search(shown):
        problem = "contains a variable or expression; pin the value it is set from"
    return FoundReference(line0 + 1, where, shown, start, end, problem=problem)


# -- Dockerfiles -------------------------------------------------------------------------------

_DIRECTIVE_RE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(\S+)\s*$")
_ARG_ITEM_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$")


@dataclass
class _Instruction:
    line: int  # 1-based line of the first physical line
    chars: list[tuple[str, int]]  # the logical text, each character with its file offset


def _instructions(text: str) -> Iterator[_Instruction]:
    """Logical instructions (continuations joined, comment lines inside them dropped)."""
    escape = "\\"
    physical = list(re.finditer(r"[^\n]*\n?", text))
    in_directives = True
    current: _Instruction | None = None
    for number, match in enumerate(physical, start=1):
        raw = match.group(0)
        if not raw:
            continue
        body = raw.rstrip("\r\n")
        base = match.start()
        stripped = body.strip()
        if current is None:
            if in_directives:
                directive = _DIRECTIVE_RE.match(stripped)
                if directive and directive.group(1).lower() == "escape":
                    escape = directive.group(2)[:1] or "\\"
                    continue
                if directive:
                    continue
                in_directives = False
            if not stripped or stripped.startswith("#"):
                continue
            current = _Instruction(number, [])
        elif not stripped or stripped.startswith("#"):
            continue  # comment or empty line inside a continuation
        content = body.rstrip()
        continued = content.endswith(escape)
        if continued:
            content = content[: -len(escape)]
        current.chars.extend((ch, base + i) for i, ch in enumerate(content))
        if continued:
            current.chars.append((" ", -1))
            continue
        yield current
        current = None
    if current is not None:
        yield current


def _tokens(chars: list[tuple[str, int]]) -> list[tuple[str, int | None, int | None]]:
    """Whitespace-separated words, each with its file offsets (None when not contiguous)."""
    words: list[tuple[str, int | None, int | None]] = []
    i = 0
    while i < len(chars):
        if chars[i][0].isspace():
            i += 1
            continue
        j = i
        while j < len(chars) and not chars[j][0].isspace():
            j += 1
        word = "".join(ch for ch, _ in chars[i:j])
        offsets = [off for _, off in chars[i:j]]
        contiguous = all(b == a + 1 for a, b in zip(offsets, offsets[1:], strict=False))
        if contiguous and offsets[0] >= 0:
            words.append((word, offsets[0], offsets[-1] + 1))
        else:
            words.append((word, None, None))
        i = j
    return words


def _dockerfile_references(text: str) -> list[FoundReference]:
    global_args: dict[str, tuple[str | None, int, int | None, int | None]] = {}
    stages: set[str] = set()
    found: list[FoundReference] = []
    seen_from = False
    instructions = [(inst, _tokens(inst.chars)) for inst in _instructions(text)]
    # COPY --from / RUN --mount from= may name any stage of the file, even a later one.
    every_stage: set[str] = set()
    for _, words in instructions:
        plain = [word for word, _, _ in words if not word.startswith("--")]
        if len(plain) >= 4 and plain[0].upper() == "FROM" and plain[2].upper() == "AS":
            every_stage.add(plain[3].lower())
    for inst, words in instructions:
        if not words:
            continue
        keyword = words[0][0].upper()
        if keyword in ("COPY", "RUN"):
            for word, start, end, where in _from_flags(keyword, words[1:]):
                if word.isdigit() or word.lower() in every_stage:
                    continue  # a stage: not listed (each FROM already is)
                line = _line_of(text, start) if start is not None else inst.line
                found.append(_copied_image(word, start, end, line, where))
            continue
        if keyword == "ARG" and not seen_from:
            for word, start, end in words[1:]:
                item = _ARG_ITEM_RE.match(word)
                if not item:
                    continue
                name, default = item.group(1), item.group(2)
                if default is not None and start is not None and end is not None:
                    vstart = start + len(name) + 1
                    quote = default[:1]
                    if quote in ("'", '"') and default.endswith(quote) and len(default) > 1:
                        default, vstart = default[1:-1], vstart + 1
                    global_args[name] = (default, inst.line, vstart, vstart + len(default))
                else:
                    global_args[name] = (default, inst.line, None, None)
            continue
        if keyword != "FROM":
            continue
        seen_from = True
        args = words[1:]
        platform = None
        while args and args[0][0].startswith("--"):
            flag = args.pop(0)[0]
            if flag.startswith("--platform="):
                platform = flag.split("=", 1)[1]
        if not args:
            continue
        word, start, end = args[0]
        line = _line_of(text, start) if start is not None else inst.line
        if len(args) >= 3 and args[1][0].upper() == "AS":
            stage = args[2][0].lower()
        else:
            stage = None
        ref = _from_reference(word, start, end, line, platform, stages, global_args)
        if not any(f.start == ref.start and f.start is not None for f in found):
            found.append(ref)  # two FROM ${BASE} share the one ARG default
        if stage:
            stages.add(stage)
    return found


def _from_flags(
    keyword: str, args: list[tuple[str, int | None, int | None]]
) -> Iterator[tuple[str, int | None, int | None, str]]:
    """The images named by `COPY --from=X` and `RUN --mount=...,from=X,...` (with offsets)."""
    for flag, start, end in args:
        if not flag.startswith("--"):
            return  # the flags come first
        if keyword == "COPY" and flag.startswith("--from="):
            value_start = None if start is None else start + len("--from=")
            yield flag[len("--from=") :], value_start, end, "COPY --from"
        elif keyword == "RUN" and flag.startswith("--mount="):
            offset = len("--mount=")
            for item in flag[offset:].split(","):
                if item.startswith("from="):
                    value = item[len("from=") :]
                    value_start = None if start is None else start + offset + len("from=")
                    value_end = None if value_start is None else value_start + len(value)
                    yield value, value_start, value_end, "RUN --mount from"
                offset += len(item) + 1


def _copied_image(
    word: str, start: int | None, end: int | None, line: int, where: str
) -> FoundReference:
    if word.lower() == "scratch":
        return FoundReference(line, where, word, start, end, skip="scratch")
    if start is None or end is None:
        return FoundReference(
            line, where, word, None, None, problem="the reference is split across lines"
        )
    if _VARIABLE_RE.search(word):
        return FoundReference(
            line,
            where,
            word,
            start,
            end,
            problem="uses a build ARG (declared in its stage, not the global ARG a FROM "
            "reads); pin it by hand or put the image in a FROM stage",
        )
    return FoundReference(line, where, word, start, end)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _from_reference(
    word: str,
    start: int | None,
    end: int | None,
    line: int,
    platform: str | None,
    stages: set[str],
    global_args: dict[str, tuple[str | None, int, int | None, int | None]],
) -> FoundReference:
    if word.lower() in stages:
        return FoundReference(line, "FROM", word, start, end, platform=platform, skip="stage")
    if word.lower() == "scratch":
        return FoundReference(line, "FROM", word, start, end, platform=platform, skip="scratch")
    if start is None:
        return FoundReference(
            line,
            "FROM",
            word,
            None,
            None,
            platform=platform,
            problem="the reference is split across lines",
        )
    if not _VARIABLE_RE.search(word):
        return FoundReference(line, "FROM", word, start, end, platform=platform)
    whole = re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", word)
    if whole:
        name = whole.group(1) or whole.group(2)
        arg = global_args.get(name)
        if arg is None or arg[0] is None:
            return FoundReference(
                line,
                "FROM",
                word,
                start,
                end,
                platform=platform,
                problem=f"ARG {name} has no default before the first FROM; nothing to resolve",
            )
        default, arg_line, vstart, vend = arg
        if default is None or vstart is None or _VARIABLE_RE.search(default):
            return FoundReference(
                line,
                "FROM",
                word,
                start,
                end,
                platform=platform,
                problem=f"the default of ARG {name} is not a plain reference",
            )
        # The digest goes where the value is written: the ARG default.
        return FoundReference(
            arg_line,
            f"ARG {name} (used in FROM line {line})",
            default,
            vstart,
            vend,
            platform=platform,
        )
    # Part of the reference comes from an ARG (python:${PY}-slim): a pin could not follow
    # the ARG when it is overridden, so say what to do instead.
    resolved = _substitute(word, global_args)
    names = sorted(set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", word)))
    return FoundReference(
        line,
        "FROM",
        word,
        start,
        end,
        resolved=resolved,
        platform=platform,
        problem=f"built from ARG {', '.join(names)} and other text; a digest here would "
        "silently ignore a --build-arg, so put the whole reference in one ARG to pin it",
    )


def _substitute(
    word: str, global_args: dict[str, tuple[str | None, int, int | None, int | None]]
) -> str | None:
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1) or match.group(2)
        arg = global_args.get(name)
        if arg is None or arg[0] is None:
            missing = True
            return match.group(0)
        return arg[0]

    out = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", value, word)
    return None if missing else out


# -- rewriting ---------------------------------------------------------------------------------


def apply_edits(kind: FileKind, text: str, edits: list[Edit]) -> str:
    """Replace each edit's span (they must not overlap); for YAML, check that every edited
    value reads back as `expect` and that nothing else in the document changed."""
    ordered = sorted(edits, key=lambda e: e.start)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.start < a.end:
            raise ValueError("overlapping edits")
    out = text
    for edit in reversed(ordered):
        out = out[: edit.start] + edit.new + out[edit.end :]
    if kind != "dockerfile" and edits:
        before = find_references(kind, text)
        after = find_references(kind, out)
        wanted = {e.start: e.expect for e in edits}
        if len(before) != len(after):
            raise ValueError("the rewrite changed the number of references")
        for old, new in zip(before, after, strict=True):
            expect = wanted.get(old.start) if old.start is not None else None
            if new.text != (expect if expect is not None else old.text):
                raise ValueError(f"the rewrite of {old.where} did not read back as intended")
    return out
