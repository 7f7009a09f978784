"""Local image sources behind the registry client's API (regclient's `scheme/ocidir` model).

`LocalLayoutClient` answers `get_tag_manifest`, `get_manifest`, `head_manifest`, `get_blob`,
`open_blob` and `iter_tag_pages` for:

* `oci:DIR` - an OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`);
* `oci-archive:FILE` - the same layout in a tar file (read in place with `tarfile`);
* `docker-archive:FILE` - `docker save` output: the OCI layout Docker 25+ writes inside it
  (`index.json`, names in `io.containerd.image.name`), else the legacy `manifest.json` +
  `repositories` form, for which a Docker schema 2 manifest is made from the config and the
  layer files (layer digest = the config's diff_id, as containers/image does; the layers are
  uncompressed tars).

Safety: every byte is treated like registry data. A path comes only from a validated digest
(`blobs/sha256/<64 hex>`) or from a `manifest.json` entry that is relative, has no `..`, and
names a regular file: absolute paths, `..`, symlinks (in the directory or as tar members),
hard links, devices and FIFOs are refused with an error naming the entry. Nothing outside the
layout is opened, nothing is extracted to disk, sizes are capped before reading, and every blob
and manifest is verified against its digest. Nothing read here goes near the HTTP cache.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from dockerhub_cli.errors import (
    DigestMismatchError,
    InvalidInputError,
    NotFoundError,
)
from dockerhub_cli.oci import jsonlimits
from dockerhub_cli.oci.mediatypes import DOCKER_MANIFEST, OCI_INDEX
from dockerhub_cli.oci.reference import ImageReference, parse_reference
from dockerhub_cli.oci.source import DOCKER_ARCHIVE, OCI_LAYOUT, describe_source
from dockerhub_cli.remote.blobstream import VerifiedReader
from dockerhub_cli.remote.registry import (
    MAX_BLOB_BYTES,
    MAX_MANIFEST_BYTES,
    ManifestHead,
    RawManifest,
    compute_digest,
    verify_digest,
)

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
MAX_INDEX_BYTES = MAX_MANIFEST_BYTES
MAX_TAR_MEMBERS = 200_000
MAX_IMAGES = 10_000
MAX_LAYER_BYTES = 64 * 1024 * 1024 * 1024  # open_blob's default cap for a layer
_DIGEST_RE = re.compile(r"^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")


class LocalSourceError(InvalidInputError):
    """A local layout or archive that is malformed or unsafe (exit 2: the input is bad)."""


# -- the files of a layout: a directory or a tar file ------------------------------------------


class _Files(Protocol):
    where: str

    def exists(self, member: str) -> bool: ...

    def size(self, member: str) -> int: ...

    def read(self, member: str, limit: int) -> bytes: ...

    def open(self, member: str) -> BinaryIO: ...


def check_member(member: object, where: str, entry: str) -> str:
    """A safe relative path inside the layout, or LocalSourceError naming the entry."""
    if not isinstance(member, str) or not member or "\x00" in member:
        raise LocalSourceError(f"{where}: {entry} names an empty or invalid path")
    if member.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", member):
        raise LocalSourceError(
            f"{where}: {entry} names the absolute path {member!r}; refusing to read outside"
            " the layout",
        )
    parts = member.replace("\\", "/").split("/")
    if ".." in parts:
        raise LocalSourceError(
            f"{where}: {entry} names {member!r}, which leaves the layout ('..'); refusing it"
        )
    clean = "/".join(p for p in parts if p not in ("", "."))
    if not clean:
        raise LocalSourceError(f"{where}: {entry} names an empty path")
    return clean


class _DirFiles:
    def __init__(self, root: str) -> None:
        self.where = root
        self.root = os.path.realpath(root)

    def _path(self, member: str) -> str:
        full = os.path.join(self.root, *member.split("/"))
        # Every component must be what it says: a symlink anywhere below the root is refused
        # (it could point outside the layout, and a layout has no reason to hold one).
        current = self.root
        for part in member.split("/"):
            current = os.path.join(current, part)
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                raise NotFoundError(f"{self.where}: {member} does not exist") from None
            except OSError as exc:
                raise LocalSourceError(f"{self.where}: cannot read {member}: {exc}") from None
            if stat.S_ISLNK(info.st_mode):
                raise LocalSourceError(
                    f"{self.where}: {member} is (or passes through) a symbolic link; refusing"
                    " to follow it",
                )
        return full

    def _regular(self, member: str) -> tuple[str, int]:
        path = self._path(member)
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            raise LocalSourceError(f"{self.where}: {member} is not a regular file")
        return path, info.st_size

    def exists(self, member: str) -> bool:
        try:
            self._regular(member)
        except NotFoundError:
            return False
        return True

    def size(self, member: str) -> int:
        return self._regular(member)[1]

    def open(self, member: str) -> BinaryIO:
        path, _ = self._regular(member)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            raise LocalSourceError(f"{self.where}: cannot open {member}: {exc}") from None
        handle = os.fdopen(fd, "rb")
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # swapped since the lstat
            handle.close()
            raise LocalSourceError(f"{self.where}: {member} is not a regular file")
        return handle

    def read(self, member: str, limit: int) -> bytes:
        size = self.size(member)
        if size > limit:
            raise LocalSourceError(
                f"{self.where}: {member} is {size} bytes, more than the {limit} allowed"
            )
        with self.open(member) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise LocalSourceError(f"{self.where}: {member} grew past {limit} bytes")
        return data


class _TarFiles:
    """Members of a tar file, read in place (uncompressed: by offset; compressed: in order)."""

    def __init__(self, path: str) -> None:
        self.where = path
        self._lock = threading.Lock()
        try:
            info = os.stat(path)
        except FileNotFoundError:
            raise NotFoundError(f"{path}: no such file") from None
        except OSError as exc:
            raise LocalSourceError(f"cannot read {path}: {exc}") from None
        if not stat.S_ISREG(info.st_mode):
            raise LocalSourceError(
                f"{path} is not a regular file (a tar archive was expected)",
                hint="for an OCI layout directory use oci:DIR"
                if stat.S_ISDIR(info.st_mode)
                else None,
            )
        self._handle = open(path, "rb")  # noqa: SIM115 - closed by close()
        try:
            self._tar = tarfile.open(fileobj=self._handle, mode="r:*")
        except (tarfile.TarError, OSError, EOFError):
            self._handle.close()
            # tarfile's "r:*" lists every method it tried, one per line: keep the error one line
            raise LocalSourceError(
                f"{path} is not a tar archive (plain, gzip, bzip2 or xz)",
                hint="give the tar file `docker save` or `skopeo copy` wrote; a layout "
                "directory is oci:DIR",
            ) from None
        self._compressed = self._tar.fileobj is not self._handle
        self._members: dict[str, tarfile.TarInfo] = {}
        try:
            for count, member in enumerate(self._tar, start=1):
                if count > MAX_TAR_MEMBERS:
                    raise LocalSourceError(f"{path} has more than {MAX_TAR_MEMBERS} members")
                name = member.name
                while name.startswith("./"):
                    name = name[2:]
                name = name.rstrip("/")
                if name:
                    self._members[name] = member  # the last one wins, as when extracting
        except (tarfile.TarError, OSError, EOFError) as exc:
            self.close()
            raise LocalSourceError(f"{path} is a damaged tar archive: {exc}") from None

    def close(self) -> None:
        self._tar.close()
        self._handle.close()

    def _member(self, member: str) -> tarfile.TarInfo:
        info = self._members.get(member)
        if info is None:
            raise NotFoundError(f"{self.where}: no member {member} in the archive")
        if info.issym() or info.islnk():
            raise LocalSourceError(
                f"{self.where}: {member} is a link in the archive (to {info.linkname!r});"
                " refusing to follow it",
            )
        if not info.isreg() or info.issparse():
            raise LocalSourceError(f"{self.where}: {member} is not a regular file")
        return info

    def exists(self, member: str) -> bool:
        try:
            self._member(member)
        except NotFoundError:
            return False
        return True

    def size(self, member: str) -> int:
        return self._member(member).size

    def read(self, member: str, limit: int) -> bytes:
        info = self._member(member)
        if info.size > limit:
            raise LocalSourceError(
                f"{self.where}: {member} is {info.size} bytes, more than the {limit} allowed"
            )
        with self._lock:
            extracted = self._tar.extractfile(info)
            if extracted is None:
                raise LocalSourceError(f"{self.where}: {member} cannot be read")
            try:
                return extracted.read(limit)
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise LocalSourceError(f"{self.where}: {member} is damaged: {exc}") from None

    def open(self, member: str) -> BinaryIO:
        info = self._member(member)
        if self._compressed:  # no random access: read it (capped by the caller's size check)
            return io.BytesIO(self.read(member, MAX_BLOB_BYTES))
        handle = open(self.where, "rb")  # noqa: SIM115 - a private handle: thread-safe streaming
        handle.seek(info.offset_data)
        return _Window(handle, info.size)  # type: ignore[return-value]


class _Window(io.RawIOBase):
    """`size` bytes of `handle` from its current position."""

    def __init__(self, handle: BinaryIO, size: int) -> None:
        self._handle = handle
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        want = min(len(buffer), self._left)
        if want <= 0:
            return 0
        chunk = self._handle.read(want)
        self._left -= len(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._handle.close()
        super().close()


# -- the layout ------------------------------------------------------------------------------


@dataclass
class _Image:
    """One top-level image of the source: its names and its manifest/index descriptor."""

    names: list[str]
    digest: str
    media_type: str
    size: int | None = None


@dataclass
class _Synthetic:
    """Manifests made here (legacy docker archives) and the files behind their blobs."""

    manifests: dict[str, bytes] = field(default_factory=dict)
    blobs: dict[str, str] = field(default_factory=dict)  # digest -> member path


def blob_path(digest: object, where: str, entry: str) -> str:
    if not isinstance(digest, str) or not _DIGEST_RE.match(digest):
        raise LocalSourceError(
            f"{where}: {entry} has the invalid digest {str(digest)[:80]!r}; expected"
            " sha256:<64 lowercase hex> (refusing to build a path from it)",
        )
    algorithm, _, hex_part = digest.partition(":")
    return f"blobs/{algorithm}/{hex_part}"


class LocalLayoutClient:
    """One local source (directory or archive), read on demand; safe to share between threads."""

    def __init__(self, transport: str, location: str) -> None:
        self.transport = transport
        self.location = location
        self.where = describe_source(ImageReference(transport, location, transport=transport))
        self._lock = threading.Lock()
        self._files: _Files | None = None
        self._images: list[_Image] | None = None
        self._synthetic = _Synthetic()
        self._media_types: dict[str, str] = {}

    # -- opening ------------------------------------------------------------------------------

    def _open(self) -> tuple[_Files, list[_Image]]:
        with self._lock:
            if self._files is None or self._images is None:
                files = self._open_files()
                try:
                    self._images = self._load(files)
                except BaseException:
                    if isinstance(files, _TarFiles):
                        files.close()
                    raise
                self._files = files
            return self._files, self._images

    def _open_files(self) -> _Files:
        path = self.location
        if self.transport == OCI_LAYOUT:
            try:
                info = os.stat(path)
            except FileNotFoundError:
                raise NotFoundError(
                    f"{self.where}: no such directory",
                    hint="give the directory that holds index.json (oci:DIR[:REF])",
                ) from None
            except OSError as exc:
                raise LocalSourceError(f"cannot read {self.where}: {exc}") from None
            if not stat.S_ISDIR(info.st_mode):
                raise LocalSourceError(
                    f"{self.where} is not a directory",
                    hint="for a tar file use oci-archive:FILE or docker-archive:FILE",
                )
            return _DirFiles(path)
        return _TarFiles(path)

    def _load(self, files: _Files) -> list[_Image]:
        has_index = files.exists("index.json")
        if self.transport == DOCKER_ARCHIVE:
            if files.exists("manifest.json") and not has_index:
                return self._load_docker(files)
            if not has_index:
                raise LocalSourceError(
                    f"{self.where} has neither manifest.json nor index.json: not a"
                    " `docker save` archive",
                    hint="for an OCI layout archive use oci-archive:FILE",
                )
            images = self._load_index(files)
            if files.exists("manifest.json") and not any(i.names for i in images):
                return self._load_docker(files)  # an OCI layout without names: use RepoTags
            return images
        if not has_index:
            raise LocalSourceError(
                f"{self.where} has no index.json: not an OCI image layout",
                hint=(
                    "for `docker save` output use docker-archive:FILE"
                    if files.exists("manifest.json")
                    else "an OCI layout holds oci-layout, index.json and blobs/"
                ),
            )
        return self._load_index(files)

    def _load_index(self, files: _Files) -> list[_Image]:
        body = files.read("index.json", MAX_INDEX_BYTES)
        data = _json_object(body, f"{self.where}: index.json")
        entries = data.get("manifests")
        if not isinstance(entries, list):
            raise LocalSourceError(f"{self.where}: index.json has no `manifests` list")
        if len(entries) > MAX_IMAGES:
            raise LocalSourceError(f"{self.where}: index.json lists more than {MAX_IMAGES} images")
        images = []
        for n, entry in enumerate(entries):
            label = f"index.json entry {n}"
            if not isinstance(entry, dict):
                raise LocalSourceError(f"{self.where}: {label} is not an object")
            digest = str(entry.get("digest"))
            blob_path(digest, self.where, label)  # validated before anything is built from it
            annotations = entry.get("annotations")
            annotations = annotations if isinstance(annotations, dict) else {}
            names = []
            if self.transport == DOCKER_ARCHIVE and isinstance(
                annotations.get(CONTAINERD_NAME), str
            ):
                names.append(_familiar(annotations[CONTAINERD_NAME]))
            elif isinstance(annotations.get(REF_NAME), str):
                names.append(annotations[REF_NAME])
            media_type = str(entry["mediaType"]) if isinstance(entry.get("mediaType"), str) else ""
            size = entry.get("size") if isinstance(entry.get("size"), int) else None
            images.append(_Image(names, digest, media_type, size))
            if media_type:
                self._media_types[digest] = media_type
        # Several unnamed platform manifests: index.json itself is the image index.
        if len(images) > 1 and not any(i.names for i in images):
            platforms = [e for e in entries if isinstance(e.get("platform"), dict)]
            if len(platforms) == len(entries):
                digest = compute_digest(body)
                self._synthetic.manifests[digest] = body
                self._media_types[digest] = OCI_INDEX
                return [_Image([], digest, OCI_INDEX, len(body))]
        return images

    def _load_docker(self, files: _Files) -> list[_Image]:
        body = files.read("manifest.json", MAX_INDEX_BYTES)
        try:
            data = jsonlimits.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise LocalSourceError(f"{self.where}: manifest.json is not valid JSON") from None
        if not isinstance(data, list) or not data:
            raise LocalSourceError(f"{self.where}: manifest.json is not a non-empty list")
        if len(data) > MAX_IMAGES:
            raise LocalSourceError(f"{self.where}: manifest.json lists more than {MAX_IMAGES}")
        images = []
        for n, entry in enumerate(data):
            label = f"manifest.json entry {n}"
            if not isinstance(entry, dict):
                raise LocalSourceError(f"{self.where}: {label} is not an object")
            config_path = check_member(entry.get("Config"), self.where, f"{label} Config")
            layers = entry.get("Layers")
            if not isinstance(layers, list):
                raise LocalSourceError(f"{self.where}: {label} has no Layers list")
            layer_paths = [
                check_member(p, self.where, f"{label} layer {i}") for i, p in enumerate(layers)
            ]
            config = files.read(config_path, MAX_BLOB_BYTES)
            config_digest = compute_digest(config)
            stem = config_path.rsplit("/", 1)[-1].removesuffix(".json")
            if re.fullmatch(r"[a-f0-9]{64}", stem) and f"sha256:{stem}" != config_digest:
                raise DigestMismatchError(
                    f"{self.where}: {config_path} does not match the digest its name says"
                    f" (got {config_digest})",
                    hint="the archive is damaged or was changed; it was not used",
                )
            diff_ids = _diff_ids(config, f"{self.where}: {config_path}")
            if len(diff_ids) != len(layer_paths):
                raise LocalSourceError(
                    f"{self.where}: {label} has {len(layer_paths)} layers but its config lists"
                    f" {len(diff_ids)} diff_ids",
                )
            layer_descriptors = []
            for path, diff_id in zip(layer_paths, diff_ids, strict=True):
                blob_path(diff_id, self.where, f"{config_path} diff_id")
                layer_descriptors.append(
                    {"mediaType": DOCKER_LAYER_TAR, "size": files.size(path), "digest": diff_id}
                )
                self._synthetic.blobs.setdefault(diff_id, path)
            self._synthetic.blobs[config_digest] = config_path
            manifest = {
                "schemaVersion": 2,
                "mediaType": DOCKER_MANIFEST,
                "config": {
                    "mediaType": DOCKER_CONFIG,
                    "size": len(config),
                    "digest": config_digest,
                },
                "layers": layer_descriptors,
            }
            raw = json.dumps(manifest, indent=3).encode()  # like `docker manifest` prints
            digest = compute_digest(raw)
            self._synthetic.manifests[digest] = raw
            self._media_types[digest] = DOCKER_MANIFEST
            tags = entry.get("RepoTags")
            names = (
                [_familiar(t) for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
            )
            images.append(_Image(names, digest, DOCKER_MANIFEST, len(raw)))
        return images

    # -- choosing the image a reference names -------------------------------------------------

    def names(self) -> list[str]:
        """Every name (tag) in the source, in file order, then unnamed images by digest."""
        _, images = self._open()
        return [n for i in images for n in i.names]

    def _choose(self, ref: ImageReference) -> _Image:
        _, images = self._open()
        if ref.tag:
            wanted = _familiar(ref.tag) if self.transport == DOCKER_ARCHIVE else ref.tag
            matches = [i for i in images if wanted in i.names]
            if not matches:
                raise NotFoundError(
                    f"{self.where} has no image named {ref.tag!r}; it holds:"
                    f" {self._listing(images)}",
                    hint=f"name one: {self._example(images)}",
                )
            if len({i.digest for i in matches}) > 1:
                raise InvalidInputError(
                    f"{self.where} has {len(matches)} different images named {ref.tag!r}:"
                    f" {', '.join(i.digest for i in matches)}",
                    hint=f"name one by digest: {ref.familiar_name}@{matches[0].digest}",
                )
            return matches[0]
        if len(images) == 1:
            return images[0]
        raise InvalidInputError(
            f"{self.where} holds {len(images)} images: {self._listing(images)}",
            hint=f"name one: {self._example(images)}",
        )

    def _listing(self, images: list[_Image]) -> str:
        return ", ".join(", ".join(i.names) if i.names else i.digest for i in images) or "none"

    def _example(self, images: list[_Image]) -> str:
        first = images[0] if images else None
        label = (first.names[0] if first.names else first.digest) if first else "REF"
        return f"{self.transport}:{self.location}:{label}"

    # -- the registry client's API ------------------------------------------------------------

    def get_tag_manifest(self, ref: ImageReference) -> RawManifest:
        image = self._choose(ref)
        return self._manifest(image.digest, f"{self.where} image {image.names or image.digest}")

    def get_manifest(self, ref: ImageReference, reference: str | None = None) -> RawManifest:
        reference = reference or ref.digest or ref.tag
        if reference and _DIGEST_RE.match(reference):
            return self._manifest(reference, f"{self.where} manifest {reference}")
        if reference and reference != ref.tag:  # another name in the source (a fallback tag)
            return self.get_tag_manifest(ref.with_tag(reference))
        return self.get_tag_manifest(ref)

    def head_manifest(self, ref: ImageReference, reference: str | None = None) -> ManifestHead:
        raw = self.get_manifest(ref, reference)
        return ManifestHead(raw.digest, raw.media_type, len(raw.body), {})

    def _manifest(self, digest: str, what: str) -> RawManifest:
        files, _ = self._open()
        body = self._synthetic.manifests.get(digest)
        if body is None:
            path = blob_path(digest, self.where, what)
            try:
                body = files.read(path, MAX_MANIFEST_BYTES)
            except NotFoundError:
                raise NotFoundError(
                    f"{self.where} has no manifest {digest}",
                    hint="the layout is incomplete, or the digest is wrong",
                ) from None
            verify_digest(body, digest, what)
        return RawManifest(
            body=body, media_type=self._media_types.get(digest, ""), digest=digest, headers={}
        )

    def _blob_member(self, digest: str, what: str) -> str:
        member = self._synthetic.blobs.get(digest)
        return member if member is not None else blob_path(digest, self.where, what)

    def get_blob(self, ref: ImageReference, digest: str, *, what: str = "blob") -> bytes:
        """A small blob (config, attestation), capped and verified."""
        files, _ = self._open()
        label = f"{what} {digest[:19]} in {self.where}"
        member = self._blob_member(digest, label)
        try:
            body = files.read(member, MAX_BLOB_BYTES)
        except NotFoundError:
            raise NotFoundError(f"{label} is missing from the layout") from None
        verify_digest(body, digest, label)
        return body

    def open_blob(
        self,
        ref: ImageReference,
        digest: str,
        *,
        size: int | None = None,
        max_bytes: int = MAX_LAYER_BYTES,
        what: str = "blob",
    ) -> BinaryIO:
        """A streaming reader over a blob (e.g. a layer), verified at its end (VerifiedReader)."""
        files, _ = self._open()
        label = f"{what} {digest[:19]} in {self.where}"
        member = self._blob_member(digest, label)
        actual = files.size(member)
        if size is not None and actual != size:
            raise DigestMismatchError(
                f"{label} is {actual} bytes, not the {size} its descriptor says",
                hint="the layout is damaged or was changed; it was not used",
            )
        reader = VerifiedReader(
            files.open(member), digest, size=actual, max_bytes=max_bytes, what=label
        )
        return io.BufferedReader(reader)  # type: ignore[arg-type]

    def iter_tag_pages(self, ref: ImageReference, page_size: int = 1000) -> Iterator[list[str]]:
        names = self.names()
        for start in range(0, max(len(names), 1), page_size):
            yield names[start : start + page_size]

    def close(self) -> None:
        with self._lock:
            if isinstance(self._files, _TarFiles):
                self._files.close()
            self._files = None
            self._images = None


def _familiar(name: str) -> str:
    """`docker.io/library/nginx:latest` and `nginx` both as `nginx:latest` (as docker prints)."""
    try:
        return str(parse_reference(name))
    except InvalidInputError:
        return name


def _json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        data = jsonlimits.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise LocalSourceError(f"{what} is not valid JSON") from None
    if not isinstance(data, dict):
        raise LocalSourceError(f"{what} is not a JSON object")
    return data


def _diff_ids(config: bytes, what: str) -> list[str]:
    data = _json_object(config, what)
    rootfs = data.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
        raise LocalSourceError(f"{what} has no rootfs.diff_ids list")
    return list(diff_ids)
