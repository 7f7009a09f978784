"""`cat` to a terminal: a text file's escape sequences are made visible, never sent raw."""

from __future__ import annotations

import io

from dockerhub_cli.cli.files_commands import _terminal_safe


def _run(chunks: list[bytes]) -> tuple[bytes, int]:
    out = io.BytesIO()
    count = _terminal_safe(iter(chunks), out)
    return out.getvalue(), count


def test_escape_sequences_are_written_visibly() -> None:
    hostile = b"\x1b[2J\x1b]8;;http://evil\x07hi\x1b[0m\rok\tx\n"
    shown, count = _run([hostile])
    assert b"\x1b" not in shown and b"\x07" not in shown and b"\r" not in shown
    assert shown == b"\\x1b[2J\\x1b]8;;http://evil\\x07hi\\x1b[0m\\x0dok\tx\n"
    assert count == 5


def test_plain_text_is_unchanged_across_chunk_boundaries() -> None:
    text = "héllo wörld ✓\n".encode()
    cut = text.index("✓".encode()) + 1  # inside the 3-byte character
    shown, count = _run([text[:cut], text[cut:]])
    assert shown == text and count == 0


def test_c1_controls_and_bidi_overrides_are_visible() -> None:
    shown, count = _run(["a\u009bb\u202ec".encode()])
    assert shown == b"a\\x9bb\\u202ec" and count == 2
