"""Result models of the file commands: `files`, `cat`/read, `extract`, `diff`, `waste`.

A public contract (JSON and MCP): add fields, never rename them. Sizes are bytes; `layer` is
the 0-based index of the layer in the manifest; paths are relative to the image root and are the
real names, control characters included (JSON escapes them; tables show them as `\\x1b`),
except bytes that are not UTF-8, which JSON cannot carry: those are written `\\xNN` (`Name`).
`cat` and `extract` accept a path in either form.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field

from dockerhub_cli.models.base import Model, empty_list
from dockerhub_cli.models.images import PlatformInfo
from dockerhub_cli.text import utf8_safe

# A name from a layer: exact, but with bytes that are not UTF-8 (kept as `surrogateescape`
# surrogates by the index) written `\\xNN`, so that the model always encodes as JSON.
Name = Annotated[str, AfterValidator(utf8_safe)]


class Download(Model):
    """What a command read from the registry to answer (zero on warm layer indexes)."""

    bytes_downloaded: int = Field(
        default=0,
        description="Compressed layer bytes read: from the network, or from disk for a local "
        "source (those are bytes_read_locally too)",
    )
    bytes_read_locally: int = Field(
        default=0,
        description="Of bytes_downloaded, the bytes read from local files (OCI layouts, "
        "archives): not downloaded",
    )
    layers_read: int = Field(
        default=0, description="Layers streamed from the registry or a local source"
    )
    layers_cached: int = Field(default=0, description="Layers answered from the cached file index")
    max_download: int | None = Field(default=None, description="The --max-download bound, if any")


class FileInfo(Model):
    path: Name
    type: Literal["file", "dir", "symlink", "hardlink", "char", "block", "fifo"]
    size: int = Field(description="Content bytes (regular files and hard links), else 0")
    mode: str = Field(description="ls-style mode, e.g. -rwxr-xr-x")
    mode_bits: int = Field(description="Permission bits (with setuid/setgid/sticky)")
    uid: int
    gid: int
    link: Name | None = Field(
        default=None, description="Symlink target, or the hard link's target path"
    )
    sha256: str | None = Field(default=None, description="sha256 of the content (regular files)")
    layer: int = Field(description="The layer that last wrote this path")


class FileListing(Model):
    rows_field: ClassVar[str] = "files"

    reference: str
    digest: str = Field(description="Digest of the image manifest read")
    platform: PlatformInfo
    path: Name = Field(description="The directory listed ('' for the whole image)")
    layer: int | None = Field(default=None, description="Only this layer's own changes (--layer)")
    find: str | None = Field(default=None, description="The --find glob")
    files: list[FileInfo]
    total_files: int = Field(description="Entries matched (before paging)")
    total_size: int = Field(description="Content bytes of the entries matched")
    deleted: list[Name] = Field(
        default_factory=empty_list, description="With --layer: paths that layer deletes (whiteouts)"
    )
    opaque: list[Name] = Field(
        default_factory=empty_list, description="With --layer: directories that layer makes opaque"
    )
    layers: int = Field(description="Layers in the image")
    download: Download
    notes: list[str] = Field(default_factory=empty_list)
    stale: bool = False


class FileContent(Model):
    """One file read from an image (MCP docker_read_file; `cat --json` without content)."""

    reference: str
    digest: str
    platform: PlatformInfo | None = Field(default=None, description="The platform image read")
    path: Name = Field(description="The path asked for")
    resolved_path: Name = Field(description="After following symlinks inside the image")
    layer: int
    size: int
    sha256: str | None = None
    binary: bool = Field(description="The content is not UTF-8 text")
    text: str | None = Field(default=None, description="The content as text (text files only)")
    truncated: bool = Field(default=False, description="`text` was cut at the size bound")
    bytes_returned: int = 0
    download: Download
    notes: list[str] = Field(default_factory=empty_list)


class Skipped(Model):
    path: Name
    reason: str


class RewrittenLink(Model):
    path: str
    link: str = Field(description="The symlink target in the image")
    written: str = Field(
        description="The target written: relative to the link's directory, resolved as in "
        "the image, so it stays inside the output directory"
    )


class ExtractResult(Model):
    rows_field: ClassVar[str] = "written"

    reference: str
    digest: str
    platform: PlatformInfo | None = Field(default=None, description="The platform image read")
    directory: str
    written: list[FileInfo]
    entries_written: int = Field(
        default=0, description="Entries written: files, directories, links (rows of `written`)"
    )
    skipped: list[Skipped]
    links_rewritten: list[RewrittenLink] = Field(
        default_factory=empty_list,
        description="Symlinks whose absolute or climbing target was rewritten relative",
    )
    bytes_written: int
    download: Download
    notes: list[str] = Field(default_factory=empty_list)


class FileChange(Model):
    path: Name
    change: Literal["added", "removed", "changed"]
    fields: list[str] = Field(
        default_factory=empty_list,
        description="What changed: type, sha256, size, mode, uid, gid, link",
    )
    before: FileInfo | None = None
    after: FileInfo | None = None


class DiffTotals(Model):
    added: int = 0
    removed: int = 0
    changed: int = 0
    bytes_added: int = Field(default=0, description="Content bytes of added files")
    bytes_removed: int = Field(default=0, description="Content bytes of removed files")
    size_delta: int = Field(
        default=0, description="Content bytes of B minus those of A (under path)"
    )


class PackageChange(Model):
    name: str
    type: str = Field(description="Package type: the purl type (deb, apk, rpm, pypi, npm, ...)")
    arch: str | None = Field(default=None, description="Architecture, when the source names one")
    change: Literal["added", "removed", "upgraded", "downgraded", "changed"] = Field(
        description="`changed`: both versions are known but their order is not (no version "
        "scheme for this type, or a version it cannot parse)"
    )
    before: str | None = Field(default=None, description="Version in image1")
    after: str | None = Field(default=None, description="Version in image2")
    purl: str | None = Field(default=None, description="Package URL (SBOM sources only)")


class PackageDiff(Model):
    """Changes in the installed packages, from the images' SBOM attestations when both have
    one, else from the package databases in their filesystems (dpkg, apk, rpm)."""

    source: Literal["sbom", "package-db"] = Field(
        description="sbom: both images' SBOMs (attestations or referrers); package-db: the "
        "dpkg/apk/rpm databases "
        "read from the layers"
    )
    source1: str = Field(description="What was read for image1 (SBOM digest, or the db paths)")
    source2: str = Field(description="What was read for image2")
    packages1: int | None = Field(default=None, description="Packages in image1")
    packages2: int | None = Field(default=None, description="Packages in image2")
    added: int = 0
    removed: int = 0
    upgraded: int = 0
    downgraded: int = 0
    changed: int = 0
    changes: list[PackageChange] = Field(default_factory=empty_list)
    notes: list[str] = Field(default_factory=empty_list)


class FileDiff(Model):
    rows_field: ClassVar[str] = "changes"

    image1: str
    image2: str
    digest1: str
    digest2: str
    platform1: PlatformInfo | None = None
    platform2: PlatformInfo | None = None
    path: Name
    changes: list[FileChange]
    total_changes: int
    totals: DiffTotals
    packages: PackageDiff | None = Field(
        default=None,
        description="Package changes (SBOMs, else dpkg/apk/rpm databases); null when neither "
        "image has either (`notes` says why)",
    )
    download: Download
    notes: list[str] = Field(default_factory=empty_list)
    stale: bool = False


class WasteItem(Model):
    path: Name
    wasted_bytes: int = Field(description="Bytes of this path's versions a later layer replaced")
    versions: int = Field(description="Versions of it that were overwritten or deleted")
    layers: list[int] = Field(description="Layers whose version is wasted")
    removed_by: list[int] = Field(description="Layers that overwrote or deleted them")


class LayerWaste(Model):
    layer: int
    digest: str
    size: int = Field(description="Compressed size of the layer")
    content_bytes: int = Field(description="File content bytes the layer adds")
    wasted_bytes: int = Field(description="Of those, bytes later layers overwrite or delete")


class WasteReport(Model):
    rows_field: ClassVar[str] = "files"

    reference: str
    digest: str
    platform: PlatformInfo
    total_bytes: int = Field(description="File content bytes over all layers")
    final_bytes: int = Field(description="File content bytes of the final filesystem")
    wasted_bytes: int = Field(description="Bytes of files later layers overwrite or delete")
    efficiency: float = Field(description="1 - wasted/total (1.0: nothing wasted)")
    files: list[WasteItem] = Field(description="Biggest offenders first")
    layers: list[LayerWaste]
    max_wasted_bytes: int | None = None
    min_efficiency: float | None = None
    passed: bool | None = Field(
        default=None, description="The CI gate result, when a bound was given"
    )
    download: Download
    notes: list[str] = Field(default_factory=empty_list)
    stale: bool = False
