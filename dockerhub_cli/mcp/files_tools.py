"""The MCP bodies of the files tools (named by the spec's `mcp_call`) and their page bounds.

A body gets the service and the tool's validated arguments (MCP names); `repository` + `tag`
become one reference here because `docker_read_file` takes `path` before `tag`.
"""

from __future__ import annotations

from typing import Any

from dockerhub_cli import limits
from dockerhub_cli.models.files import FileContent, FileDiff, FileListing, WasteReport
from dockerhub_cli.oci.reference import parse_reference
from dockerhub_cli.ops.paging import page_of


def _ref(args: dict[str, Any]) -> str:
    from dockerhub_cli.mcp.server import image_reference

    return image_reference(args["repository"], args.get("tag", "latest"))


def list_files(s: Any, **args: Any) -> FileListing:
    result: FileListing = s.files(
        _ref(args), args.get("path"), layer=args.get("layer"), find=args.get("find"),
        platform=args.get("platform"), max_download=args["max_download"],
    )  # fmt: skip
    return result


def read_file(s: Any, **args: Any) -> FileContent:
    result: FileContent = s.read_text(
        _ref(args), args["path"], platform=args.get("platform"), max_chars=args["max_chars"],
        max_download=args["max_download"],
    )  # fmt: skip
    return result


def diff_files(s: Any, **args: Any) -> FileDiff:
    result: FileDiff = s.diff_files(
        str(parse_reference(args["image1"])), str(parse_reference(args["image2"])),
        args.get("path"), platform=args.get("platform"), max_download=args["max_download"],
    )  # fmt: skip
    return result


def waste(s: Any, **args: Any) -> WasteReport:
    result: WasteReport = s.waste(
        _ref(args), platform=args.get("platform"), max_download=args["max_download"]
    )
    return result


def _page(args: dict[str, Any]) -> dict[str, Any]:
    """The tools' `page` and `limit` (default DEFAULT_FILE_PAGE_SIZE) for ops/paging, the pager
    of the SBOM and vulnerability lists too: its notes name the next page as advice, worded
    for a model by the server ("call docker_list_files again with page=2")."""
    return {"page": args.get("page", 1), "limit": args.get("limit", limits.DEFAULT_FILE_PAGE_SIZE)}


def bound_files(result: FileListing, args: dict[str, Any]) -> FileListing:
    shown, note = page_of(result.files, what="entries", command="files", **_page(args))
    if note is None:
        return result
    note += " (total_files and total_size cover them all)"
    return result.model_copy(update={"files": shown, "notes": [*result.notes, note]})


def bound_diff(result: FileDiff, args: dict[str, Any]) -> FileDiff:
    result = _bound_packages(result, args.get("page", 1))
    shown, note = page_of(result.changes, what="changes", command="diff", **_page(args))
    if note is None:
        return result
    note += " (totals cover them all)"
    return result.model_copy(update={"changes": shown, "notes": [*result.notes, note]})


def _bound_packages(result: FileDiff, page: int) -> FileDiff:
    """Package changes ride on page 1, at most MAX_FILE_PAGE_SIZE of them (the counts
    cover them all); later pages page the file changes only."""
    packages = result.packages
    cap = limits.MAX_FILE_PAGE_SIZE
    if packages is None or (page == 1 and len(packages.changes) <= cap):
        return result
    if page == 1:
        note = f"showing the first {cap} of {len(packages.changes)} package changes"
        kept = packages.changes[:cap]
    else:
        note, kept = "package changes are on page 1", []
    packages = packages.model_copy(update={"changes": kept, "notes": [*packages.notes, note]})
    return result.model_copy(update={"packages": packages})
