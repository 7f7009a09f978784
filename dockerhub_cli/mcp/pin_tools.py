"""The MCP body of `docker_find_same_tags` (named by the spec's `mcp_call`): a tag written
into `repository` (nginx:1.27) is used when `tag` is left at its default."""

from __future__ import annotations

from typing import Any

from dockerhub_cli.models.pinning import SameAsReport
from dockerhub_cli.oci.reference import parse_reference, validate_tag


def same_tags(s: Any, **args: Any) -> SameAsReport:
    from dockerhub_cli.mcp.server import repository_only

    repository, tag = args["repository"], args.get("tag", "latest")
    ref = parse_reference(repository, default_tag=False)
    if tag == "latest" and ref.tag:
        tag = ref.tag
    result: SameAsReport = s.same_as(
        repository_only(repository), validate_tag(tag), pattern=args.get("pattern")
    )
    return result
