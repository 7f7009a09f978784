"""Supply chain facts from BuildKit attestations: the SPDX SBOM and the SLSA provenance.

BuildKit lays attestations out inside the image index (API.md B.2): one extra index entry per
platform image, with platform `unknown/unknown` and the annotations
`vnd.docker.reference.type: attestation-manifest` and `vnd.docker.reference.digest: <image
manifest digest>`. That entry is an image manifest whose layers are in-toto statements
(`application/vnd.in-toto+json`) annotated with `in-toto.io/predicate-type`.

Requests: HEAD the tag (cached for the tag TTL), GET the index, the attestation manifest and
one statement blob, all by digest and cached forever. The platform image manifest itself is not
needed: its digest is in the index.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from dockerhub_cli.errors import NoAttestationError, UpstreamError
from dockerhub_cli.models.images import PlatformInfo
from dockerhub_cli.models.layers import DockerfileSource
from dockerhub_cli.models.supply import (
    BuildMaterial,
    DistroInfo,
    ProvenanceReport,
    SbomPackage,
    SbomReport,
)
from dockerhub_cli.oci import jsonlimits
from dockerhub_cli.oci.manifest import Descriptor, ImageManifest
from dockerhub_cli.oci.reference import ImageReference
from dockerhub_cli.ops.images import fetch_manifest, platform_info, resolve_image

if TYPE_CHECKING:
    from packageurl import PackageURL

    from dockerhub_cli.ops.clients import Clients
    from dockerhub_cli.ops.referrers import Discovery

PREDICATE_TYPE = "in-toto.io/predicate-type"
SPDX_PREDICATE = "https://spdx.dev/Document"
SLSA_V02 = "https://slsa.dev/provenance/v0.2"
SLSA_V1 = "https://slsa.dev/provenance/v1"
BUILDKIT_METADATA = "https://mobyproject.org/buildkit@v1#metadata"
NO_ASSERTION = frozenset({"", "NOASSERTION", "NONE"})

HOW_TO_ATTEST = (
    "BuildKit writes one when the image is built with attestations, e.g. "
    "`docker buildx build --sbom=true --provenance=mode=max --push ...`"
)


# -- discovery ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attestation:
    """The attestation manifest of one platform image, fetched."""

    reference: ImageReference
    index_digest: str
    image_digest: str
    platform: PlatformInfo
    descriptor: Descriptor | None
    manifest: ImageManifest | None

    @property
    def digest(self) -> str:
        return self.descriptor.digest if self.descriptor else ""

    def layers(self, *predicate_types: str) -> list[Descriptor]:
        if self.manifest is None:
            return []
        return [
            layer
            for layer in self.manifest.layers
            if layer.annotations.get(PREDICATE_TYPE) in predicate_types
        ]

    @property
    def predicate_types(self) -> list[str]:
        if self.manifest is None:
            return []
        return [layer.annotations.get(PREDICATE_TYPE, "?") for layer in self.manifest.layers]


def find_attestation(clients: Clients, image: str, platform: str | None) -> Attestation:
    """The attestation manifest for the chosen platform (its `descriptor` None when absent)."""
    resolved = resolve_image(clients, image, platform, with_manifest=False)
    ref, top = resolved.reference, resolved.top
    index, descriptor = resolved.index, resolved.descriptor
    if index is None:
        # A single image manifest: BuildKit attestations only exist inside an index.
        return Attestation(ref, top.digest, top.digest, platform_info(None), None, None)
    assert descriptor is not None
    config = resolved.config
    info = platform_info(descriptor.platform or (config.platform if config else None))
    entry = index.attestation_for(descriptor.digest)
    if entry is None:
        return Attestation(ref, top.digest, descriptor.digest, info, None, None)
    fetched = fetch_manifest(clients, ref, entry.digest)
    if not isinstance(fetched.parsed, ImageManifest):
        raise UpstreamError(f"the attestation entry {entry.digest} of {ref} is not a manifest")
    return Attestation(ref, top.digest, descriptor.digest, info, entry, fetched.parsed)


def _missing(
    att: Attestation, what: str, consequence: str, *, also: str | None = None
) -> NoAttestationError:
    where = f"{att.reference}" + (f" ({att.platform})" if att.platform.os != "unknown" else "")
    if att.descriptor is None:
        if att.index_digest == att.image_digest:
            detail = "it is a single image manifest, not an index with attestation manifests"
        else:
            detail = "its index has no attestation manifest for this platform"
    else:
        found = ", ".join(sorted(set(att.predicate_types))) or "none"
        detail = f"its attestation manifest holds only: {found}"
    if also:
        detail += f"; {also}"
    return NoAttestationError(
        f"{where} has no {what} attestation ({detail}); {consequence}",
        hint=HOW_TO_ATTEST,
    )


def read_statement(clients: Clients, att: Attestation, layer: Descriptor) -> dict[str, Any]:
    """One in-toto statement (plain, or inside a DSSE envelope), digest-verified."""
    body = clients.client_for(att.reference).get_blob(
        att.reference, layer.digest, what="attestation"
    )
    return parse_statement(body, what=f"attestation {layer.digest[:19]} of {att.reference}")


def parse_statement(body: bytes, *, what: str = "attestation") -> dict[str, Any]:
    try:
        data = jsonlimits.loads(body)
    except ValueError as exc:
        raise UpstreamError(f"{what} is {jsonlimits.describe(exc)}") from None
    if isinstance(data, dict) and "payload" in data and "payloadType" in data:
        try:
            data = jsonlimits.loads(base64.b64decode(str(data["payload"]), validate=False))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise UpstreamError(f"{what} is a DSSE envelope whose payload is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("predicate"), dict):
        raise UpstreamError(f"{what} is not an in-toto statement (no predicate object)")
    return data


# -- package URLs (packageurl-python) ------------------------------------------------------------


def parse_purl(text: str) -> PackageURL | None:
    """A package URL parsed by `packageurl-python`; None if it is not a valid one."""
    from dockerhub_cli.remote.osv import parse_purl as _parse

    return _parse(text)


def query_purl(text: str) -> str | None:
    """The purl as sent to OSV: qualifiers (arch, distro) and subpath stripped, version kept."""
    from dockerhub_cli.remote.osv import query_purl as _query

    return _query(text)


# -- SPDX -------------------------------------------------------------------------------------


def _license(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip().upper() not in NO_ASSERTION else None


def spdx_packages(document: dict[str, Any]) -> list[SbomPackage]:
    """The packages of an SPDX 2.x JSON document, purl from externalRefs (type purl)."""
    packages: list[SbomPackage] = []
    for raw in document.get("packages") or []:
        if not isinstance(raw, dict) or not raw.get("name"):
            continue
        purl = None
        for ref in raw.get("externalRefs") or []:
            if isinstance(ref, dict) and str(ref.get("referenceType", "")).lower() == "purl":
                locator = ref.get("referenceLocator")
                if isinstance(locator, str) and locator:
                    purl = locator
                    break
        parsed = parse_purl(purl) if purl else None
        concluded = raw.get("licenseConcluded")
        declared = raw.get("licenseDeclared")
        version = raw.get("versionInfo")
        packages.append(
            SbomPackage(
                name=str(raw["name"]),
                version=str(version) if version not in (None, "") else None,
                purl=purl,
                type=parsed.type if parsed else "unknown",
                license=_license(concluded) or _license(declared),
                license_concluded=concluded if isinstance(concluded, str) else None,
                license_declared=declared if isinstance(declared, str) else None,
                spdx_id=str(raw["SPDXID"]) if raw.get("SPDXID") else None,
            )
        )
    return packages


CYCLONEDX_PREDICATES = ("https://cyclonedx.org/bom",)
OPENVEX_PREDICATE = "https://openvex.dev/ns"
MAX_DOCUMENTS = 20  # attached documents read for one report (each one blob GET)


def _cdx_license(raw: dict[str, Any]) -> str | None:
    for item in raw.get("licenses") or []:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("expression"), str):
            return _license(item["expression"])
        lic = item.get("license")
        if isinstance(lic, dict):
            value = lic.get("id") or lic.get("name")
            if isinstance(value, str):
                return _license(value)
    return None


def _cdx_components(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every component of a CycloneDX BOM, nested ones included (bounded)."""
    found: list[dict[str, Any]] = []
    stack = [c for c in document.get("components") or [] if isinstance(c, dict)]
    while stack and len(found) < 100_000:
        component = stack.pop(0)
        found.append(component)
        stack.extend(c for c in component.get("components") or [] if isinstance(c, dict))
    return found


def cyclonedx_packages(document: dict[str, Any]) -> list[SbomPackage]:
    """The packages of a CycloneDX JSON BOM (operating-system components left out)."""
    packages: list[SbomPackage] = []
    for raw in _cdx_components(document):
        if not raw.get("name") or raw.get("type") == "operating-system":
            continue
        purl = raw.get("purl") if isinstance(raw.get("purl"), str) and raw.get("purl") else None
        parsed = parse_purl(purl) if purl else None
        version = raw.get("version")
        license_text = _cdx_license(raw)
        packages.append(
            SbomPackage(
                name=str(raw["name"]),
                version=str(version) if version not in (None, "") else None,
                purl=purl,
                type=parsed.type if parsed else "unknown",
                license=license_text,
                license_declared=license_text,
                spdx_id=str(raw["bom-ref"]) if isinstance(raw.get("bom-ref"), str) else None,
            )
        )
    return packages


def distro_of(document: dict[str, Any], packages: list[SbomPackage]) -> DistroInfo | None:
    """The distribution release an SBOM records: its operating-system component / package
    (os-release ID and VERSION_ID), else the most common purl `distro` qualifier."""
    from dockerhub_cli.remote.osv import release_ecosystem

    candidates: list[tuple[str, str | None]] = []
    for raw in _cdx_components(document):
        if raw.get("type") == "operating-system" and isinstance(raw.get("name"), str):
            version = raw.get("version")
            candidates.append((raw["name"], str(version) if version else None))
    for raw in document.get("packages") or []:
        if isinstance(raw, dict) and raw.get("primaryPackagePurpose") == "OPERATING-SYSTEM":
            version = raw.get("versionInfo")
            if isinstance(raw.get("name"), str):
                candidates.append((raw["name"], str(version) if version else None))
    if not candidates:
        from dockerhub_cli.remote.osv import _distro_qualifier

        seen: Counter[tuple[str, str]] = Counter()
        for package in packages:
            purl = parse_purl(package.purl or "")
            if purl is not None and purl.type in ("deb", "apk", "rpm"):
                found = _distro_qualifier(purl)
                if found is not None:
                    seen[found] += 1
        candidates = [pair for pair, _ in seen.most_common(1)]
    if not candidates:
        return None
    distro_id, version_id = candidates[0]
    distro_id = distro_id.strip().lower()
    return DistroInfo(
        id=distro_id,
        version_id=version_id,
        ecosystem=release_ecosystem(distro_id, version_id),
    )


@dataclass(frozen=True)
class AttachedDocument:
    """A document found through `referrers`: an SBOM, a VEX document or a provenance."""

    kind: str  # "spdx" | "cyclonedx" | "openvex" | "provenance"
    data: dict[str, Any]  # the document itself (for provenance: the in-toto statement)
    source: str
    subject: str
    artifact_digest: str
    layer_digest: str


def _layer_kind(media_type: str, predicate: str | None) -> str | None:
    """What a layer holds, when its media type or predicate annotation says so; "statement"
    for an in-toto statement / DSSE envelope whose predicate is only known once read."""
    from dockerhub_cli.ops import referrers as r

    if media_type in r.SPDX_JSON:
        return "spdx"
    if media_type in r.CYCLONEDX_JSON:
        return "cyclonedx"
    if media_type in r.OPENVEX_JSON:
        return "openvex"
    if predicate:
        return _predicate_kind(predicate)
    if media_type in (r.IN_TOTO, r.DSSE_ENVELOPE):
        return "statement"
    return None


def _predicate_kind(predicate: str) -> str | None:
    if predicate.startswith(SPDX_PREDICATE) or "spdx" in predicate.lower():
        return "spdx"
    if predicate.startswith(CYCLONEDX_PREDICATES) or "cyclonedx" in predicate.lower():
        return "cyclonedx"
    if predicate.startswith(OPENVEX_PREDICATE):
        return "openvex"
    if predicate.startswith((SLSA_V1, SLSA_V02)):
        return "provenance"
    return None


def attached_documents(
    clients: Clients, found: Discovery, subjects: tuple[str, ...], kinds: set[str]
) -> tuple[list[AttachedDocument], list[str]]:
    """The documents of the wanted `kinds` attached to `subjects` (in that order of
    preference), read from their blobs (digest-verified); notes on what could not be read."""
    from dockerhub_cli.errors import DockerHubError
    from dockerhub_cli.ops import referrers as r

    documents: list[AttachedDocument] = []
    notes: list[str] = []
    reads = 0
    rank = {"in_index": 0, "referrers_api": 1, "tag_fallback": 2, "cosign_tag": 3}
    entries = sorted(
        found.for_subject(*subjects),
        key=lambda e: (subjects.index(e.subject), min(rank[s] for s in e.sources)),
    )
    wanted = {{"spdx": "sbom", "cyclonedx": "sbom", "openvex": "vex"}.get(k, k) for k in kinds} | {
        "attestation",
        "other",
    }
    for entry in entries:
        if r._kind(entry) not in wanted:
            continue  # known from the listing's artifactType: not worth a request
        manifest = r.load_manifest(clients, found.reference, entry, notes)
        if manifest is None or r._kind(entry) not in wanted:
            continue
        for layer in manifest.layers:
            predicate = layer.annotations.get(r.PREDICATE_TYPE) or layer.annotations.get(
                r.COSIGN_PREDICATE_TYPE
            )
            kind = _layer_kind(layer.media_type, predicate)
            if kind is None or (kind != "statement" and kind not in kinds):
                continue
            if reads >= MAX_DOCUMENTS:
                notes.append(f"read only the first {MAX_DOCUMENTS} attached documents")
                return documents, notes
            reads += 1
            what = f"{kind} document {layer.digest[:19]} attached to {found.reference}"
            try:
                body = clients.client_for(found.reference).get_blob(
                    found.reference, layer.digest, what="document"
                )
                if kind in ("spdx", "cyclonedx", "openvex"):
                    data = jsonlimits.loads(body)
                    if not isinstance(data, dict):
                        raise UpstreamError(f"{what} is not a JSON object")
                    if _is_statement(data):
                        statement = parse_statement(body, what=what)
                        data = statement["predicate"]
                else:
                    statement = parse_statement(body, what=what)
                    kind = _predicate_kind(str(statement.get("predicateType") or "")) or ""
                    if kind not in kinds:
                        continue
                    data = statement if kind == "provenance" else statement["predicate"]
            except (ValueError, UnicodeDecodeError):
                notes.append(f"{what} is not valid JSON; skipped")
                continue
            except DockerHubError as exc:
                notes.append(f"{exc.message}; skipped")
                continue
            source = sorted(entry.sources, key=lambda s: rank[s])[0]
            documents.append(
                AttachedDocument(
                    kind, data, source, entry.subject, entry.descriptor.digest, layer.digest
                )
            )
    return documents, notes


def _is_statement(data: dict[str, Any]) -> bool:
    return ("payload" in data and "payloadType" in data) or (
        "predicate" in data and "_type" in data
    )


def discovery_for(clients: Clients, image: str, platform: str | None) -> Discovery:
    """One discovery per image and platform per service (sbom + vulns share it)."""
    from dockerhub_cli.ops.referrers import discover

    memo: dict[tuple[str, str | None], Discovery] | None = getattr(clients, "_discoveries", None)
    if memo is None:
        memo = {}
        clients._discoveries = memo  # type: ignore[attr-defined]
    key = (image, platform)
    if key not in memo:
        memo[key] = discover(
            clients, image, platform=platform, all_platforms=False, read_manifests=False
        )
    return memo[key]


def _single_image_platform(clients: Clients, att: Attestation, top: Any = None) -> PlatformInfo:
    """The platform of a single-manifest image, from its config (one blob GET, cached
    forever); unknown/unknown when it cannot be read."""
    from dockerhub_cli.errors import DockerHubError
    from dockerhub_cli.ops.images import fetch_config, fetch_manifest, platform_info

    if att.index_digest != att.image_digest:
        return att.platform
    try:
        manifest = (
            top
            if top is not None
            else fetch_manifest(clients, att.reference, att.image_digest).parsed
        )
        if isinstance(manifest, ImageManifest):
            return platform_info(fetch_config(clients, att.reference, manifest).platform)
    except DockerHubError:
        pass
    return att.platform


def _subjects(found: Discovery) -> tuple[str, ...]:
    """The chosen platform image first, then the index (SBOMs attached to either count)."""
    images = [s.digest for s in found.subjects if s.platform is not None]
    return (*images, found.digest) if images else (found.digest,)


def sbom_report(
    clients: Clients,
    image: str,
    *,
    platform: str | None = None,
    consequence: str = "its packages are unknown",
    referrers: bool = True,
) -> SbomReport:
    """`referrers=False`: only the attestation manifests inside the index (requests by digest,
    cached forever), not the referrers API and tag fallbacks (`diff` on warm layers)."""
    from dockerhub_cli.oci.timestamp import parse_timestamp

    att = find_attestation(clients, image, platform)
    layers = att.layers(SPDX_PREDICATE)
    documents: list[tuple[str, dict[str, Any]]] = []
    digests: list[str] = []
    notes: list[str] = []
    source = "in_index"
    attestation_digest = att.digest
    platform_seen = att.platform
    for layer in layers:
        statement = read_statement(clients, att, layer)
        documents.append(("spdx", statement["predicate"]))
        digests.append(layer.digest)
    if not documents and referrers:
        found = discovery_for(clients, image, platform)
        attached, read_notes = attached_documents(
            clients, found, _subjects(found), {"spdx", "cyclonedx"}
        )
        notes.extend(read_notes)
        if attached:
            first = attached[0]
            # One artifact's documents (an SPDX and a CycloneDX SBOM of the same image are two
            # views of the same packages: both are merged).
            chosen = [d for d in attached if d.subject == first.subject]
            documents = [(d.kind, d.data) for d in chosen]
            digests = [d.layer_digest for d in chosen]
            source = first.source
            attestation_digest = first.artifact_digest
            platform_seen = _single_image_platform(clients, att, found.top)
    if not documents:
        raise _missing(
            att,
            "SBOM",
            consequence,
            also="nor is one attached through the referrers API, its sha256-<hex> tag "
            "fallback or cosign's .sbom/.att tags",
        )
    packages: list[SbomPackage] = []
    for kind, document in documents:
        packages.extend(spdx_packages(document) if kind == "spdx" else cyclonedx_packages(document))
    if len(documents) > 1:
        notes.append(
            f"{len(documents)} SBOM documents were merged (e.g. one per scanned stage, or SPDX "
            "and CycloneDX)"
        )
    # The same package listed by two documents (or twice by one) is reported once.
    unique: dict[tuple[str, str | None, str | None], SbomPackage] = {}
    for p in packages:
        unique.setdefault((p.name, p.version, p.purl), p)
    if len(unique) != len(packages):
        notes.append(f"{len(packages) - len(unique)} duplicate package entries were dropped")
    packages = sorted(unique.values(), key=lambda p: (p.type, p.name.lower(), p.version or ""))
    without = sum(1 for p in packages if p.purl is None)
    if without:
        notes.append(f"{without} packages have no purl (package URL)")
    kind, document = documents[0]
    distro = None
    for _, doc in documents:
        distro = distro or distro_of(doc, packages)
    if kind == "spdx":
        creation = _dict(document.get("creationInfo"))
        created = parse_timestamp(creation.get("created"))
        creators = creation.get("creators")
        name = _text(document.get("name"))
    else:
        metadata = _dict(document.get("metadata"))
        created = parse_timestamp(metadata.get("timestamp"))
        tools = metadata.get("tools")
        if isinstance(tools, dict):
            tools = tools.get("components")
        creators = [
            f"Tool: {t.get('name')}" + (f"-{t.get('version')}" if t.get("version") else "")
            for t in tools or []
            if isinstance(t, dict) and t.get("name")
        ]
        name = _text(_dict(metadata.get("component")).get("name"))
    image_digest = att.image_digest
    return SbomReport(
        reference=str(att.reference),
        digest=image_digest,
        index_digest=att.index_digest,
        platform=platform_seen,
        attestation_digest=attestation_digest,
        sbom_digest=digests[0],
        sbom_digests=digests,
        spdx_version=_text(document.get("spdxVersion")) if kind == "spdx" else None,
        sbom_format=kind,  # type: ignore[arg-type]
        sbom_source=source,  # type: ignore[arg-type]
        cyclonedx_version=_text(document.get("specVersion")) if kind != "spdx" else None,
        distro=distro,
        document_name=name,
        created=created,
        creators=[str(c) for c in creators] if isinstance(creators, list) else [],
        package_count=len(packages),
        packages_without_purl=without,
        counts_by_type=dict(sorted(Counter(p.type for p in packages).items())),
        packages=packages,
        notes=notes,
    )


# -- SLSA provenance --------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _digest(value: Any) -> str | None:
    """{"sha256": "abc"} -> "sha256:abc" (sha256 first, then any algorithm)."""
    digests = _dict(value)
    for algorithm in ("sha256", "sha512", "sha1", *sorted(digests)):
        hex_value = digests.get(algorithm)
        if isinstance(hex_value, str) and hex_value:
            return f"{algorithm}:{hex_value}"
    return None


def _material(raw: Any) -> BuildMaterial | None:
    raw = _dict(raw)
    uri = _text(raw.get("uri"))
    if uri is None:
        return None
    digest = _digest(raw.get("digest"))
    image = None
    image_platform = None
    purl = parse_purl(uri)
    if purl is not None and purl.type in ("docker", "oci"):
        name = f"{purl.namespace}/{purl.name}" if purl.namespace else purl.name
        if purl.version and purl.version.startswith("sha256:"):
            image = f"{name}@{purl.version}"
        else:
            image = f"{name}:{purl.version}" if purl.version else name
        qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
        image_platform = qualifiers.get("platform")
    return BuildMaterial(uri=uri, digest=digest, image=image, platform=image_platform)


def _is_frontend(material: BuildMaterial) -> bool:
    """The Dockerfile frontend image (`# syntax=docker/dockerfile:1`), not a base image."""
    name = (material.image or "").split("@")[0].rsplit(":", 1)[0]
    return name in (
        "docker/dockerfile",
        "docker/dockerfile-upstream",
        "docker.io/docker/dockerfile",
    )


def _split_git_uri(uri: str) -> tuple[str, str | None, str | None]:
    """`https://github.com/o/r.git#ref:subdir` -> (repository, ref, subdir)."""
    repository, _, fragment = uri.partition("#")
    if not fragment:
        return repository, None, None
    ref, _, subdir = fragment.partition(":")
    return repository, ref or None, subdir.strip("/") or None


_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")


def browse_url(repository: str | None, commit: str | None, path: str | None) -> str | None:
    """A browsable URL of `path` at `commit` on GitHub or GitLab (others: None)."""
    if not repository or not commit or not path:
        return None
    text = repository
    if text.startswith("git@"):  # git@github.com:org/repo.git
        text = "https://" + text[4:].replace(":", "/", 1)
    parts = urlsplit(text if "://" in text else "https://" + text)
    host = parts.netloc.lower().split("@")[-1]
    repo_path = parts.path.strip("/").removesuffix(".git")
    if not repo_path or host not in ("github.com", "gitlab.com"):
        return None
    separator = "/-/blob/" if host == "gitlab.com" else "/blob/"
    while path.startswith("./"):
        path = path[2:]
    return f"https://{host}/{repo_path}{separator}{commit}/{path.lstrip('/')}"


def _dockerfile_source(
    config_uri: str | None,
    config_commit: str | None,
    dockerfile_path: str | None,
    vcs: dict[str, Any],
) -> DockerfileSource | None:
    repository = ref = context = None
    if config_uri:
        repository, ref, context = _split_git_uri(config_uri)
    vcs_source = _text(vcs.get("source"))
    if not repository and vcs_source:
        repository = vcs_source
    commit = config_commit or _text(vcs.get("revision"))
    if ref and not commit and _COMMIT_RE.match(ref):
        commit = ref
    if not context:
        local_context = _text(vcs.get("localdir:context"))
        context = local_context.strip("/") if local_context and local_context != "." else None
    path = dockerfile_path
    if path is None and repository is None:
        return None
    local_dir = _text(vcs.get("localdir:dockerfile"))
    full = path
    if path and not config_uri and local_dir and local_dir != ".":
        full = f"{local_dir.strip('/')}/{path}"
    elif path and context:
        full = f"{context}/{path}"
    return DockerfileSource(
        repository=repository,
        ref=ref,
        commit=commit,
        context=context,
        path=path,
        url=browse_url(repository, commit, full),
    )


def parse_provenance(statement: dict[str, Any]) -> dict[str, Any]:
    """The fields of a SLSA v0.2 or v1 predicate, as ProvenanceReport keyword arguments."""
    from dockerhub_cli.oci.timestamp import parse_timestamp

    predicate_type = str(statement.get("predicateType") or "")
    predicate = _dict(statement.get("predicate"))
    notes: list[str] = []
    if predicate_type.startswith(SLSA_V1) or "buildDefinition" in predicate:
        version = "v1"
        definition = _dict(predicate.get("buildDefinition"))
        run = _dict(predicate.get("runDetails"))
        external = _dict(definition.get("externalParameters"))
        config = _dict(external.get("configSource"))
        request = _dict(external.get("request"))
        metadata = _dict(run.get("metadata"))
        builder = _text(_dict(run.get("builder")).get("id"))
        build_type = _text(definition.get("buildType"))
        started = metadata.get("startedOn")
        finished = metadata.get("finishedOn")
        invocation = _text(metadata.get("invocationID"))
        frontend = _text(request.get("frontend"))
        args = _dict(request.get("args"))
        raw_materials = definition.get("resolvedDependencies") or []
        config_uri = _text(config.get("uri"))
        config_commit = _digest(config.get("digest"))
        dockerfile_path = _text(config.get("path"))
    else:
        version = "v0.2"
        invocation_raw = _dict(predicate.get("invocation"))
        config = _dict(invocation_raw.get("configSource"))
        parameters = _dict(invocation_raw.get("parameters"))
        metadata = _dict(predicate.get("metadata"))
        builder = _text(_dict(predicate.get("builder")).get("id"))
        build_type = _text(predicate.get("buildType"))
        started = metadata.get("buildStartedOn")
        finished = metadata.get("buildFinishedOn")
        invocation = _text(metadata.get("buildInvocationID"))
        frontend = _text(parameters.get("frontend"))
        args = _dict(parameters.get("args"))
        raw_materials = predicate.get("materials") or []
        config_uri = _text(config.get("uri"))
        config_commit = _digest(config.get("digest"))
        dockerfile_path = _text(config.get("entryPoint"))
    vcs = _dict(_dict(metadata.get(BUILDKIT_METADATA)).get("vcs"))
    commit = config_commit.split(":", 1)[1] if config_commit else None
    dockerfile = _dockerfile_source(config_uri, commit, dockerfile_path, vcs)
    build_args = {
        key.removeprefix("build-arg:"): str(value)
        for key, value in sorted(args.items())
        if key.startswith("build-arg:")
    }
    materials = [m for m in (_material(r) for r in raw_materials if r) if m is not None]
    base_images = [m for m in materials if m.image and not _is_frontend(m)]
    if not build_args and not args:
        notes.append("no build parameters recorded (provenance mode=min records less than max)")
    return {
        "predicate_type": predicate_type,
        "slsa_version": version,
        "builder": builder,
        "build_type": build_type,
        "build_started_on": parse_timestamp(started),
        "build_finished_on": parse_timestamp(finished),
        "invocation_id": invocation,
        "frontend": frontend,
        "source_repository": dockerfile.repository if dockerfile else _text(vcs.get("source")),
        "source_commit": dockerfile.commit if dockerfile else _text(vcs.get("revision")),
        "dockerfile": dockerfile,
        "build_args": build_args,
        "base_images": base_images,
        "materials": materials,
        "notes": notes,
    }


def provenance_report(
    clients: Clients,
    image: str,
    *,
    platform: str | None = None,
    attached_too: bool = True,
) -> ProvenanceReport:
    """The SLSA provenance: BuildKit's in-index attestation, else (with `attached_too`) one
    attached through the referrers API, its tag fallback or cosign's `.att` tag."""
    att = find_attestation(clients, image, platform)
    layers = att.layers(SLSA_V1, SLSA_V02)
    if layers:
        # Prefer v1 when both are present (newer BuildKit can write either).
        layers.sort(key=lambda d: d.annotations.get(PREDICATE_TYPE) != SLSA_V1)
        layer = layers[0]
        statement = read_statement(clients, att, layer)
        statement.setdefault("predicateType", layer.annotations.get(PREDICATE_TYPE))
        source, attestation_digest, provenance_digest = "in_index", att.digest, layer.digest
    else:
        attached: list[AttachedDocument] = []
        if attached_too:
            found = discovery_for(clients, image, platform)
            attached, _ = attached_documents(clients, found, _subjects(found), {"provenance"})
        if not attached:
            raise _missing(
                att,
                "SLSA provenance",
                "how it was built is unknown",
                also="nor is one attached through the referrers API, its tag fallback or "
                "cosign's .att tag",
            )
        attached.sort(key=lambda d: not str(d.data.get("predicateType", "")).startswith(SLSA_V1))
        chosen = attached[0]
        statement = chosen.data
        source = chosen.source
        attestation_digest, provenance_digest = chosen.artifact_digest, chosen.layer_digest
    fields = parse_provenance(statement)
    return ProvenanceReport(
        reference=str(att.reference),
        digest=att.image_digest,
        index_digest=att.index_digest,
        platform=_single_image_platform(clients, att) if source != "in_index" else att.platform,
        attestation_digest=attestation_digest,
        provenance_digest=provenance_digest,
        provenance_source=source,  # type: ignore[arg-type]
        **fields,
    )


def dockerfile_source(
    clients: Clients, image: str, platform: str | None
) -> DockerfileSource | None:
    """For `dockerfile`: where the real Dockerfile lives, when a provenance says so."""
    try:
        report = provenance_report(clients, image, platform=platform, attached_too=False)
    except NoAttestationError:
        return None
    return report.dockerfile


__all__ = [
    "Attestation",
    "find_attestation",
    "parse_statement",
    "parse_purl",
    "query_purl",
    "spdx_packages",
    "cyclonedx_packages",
    "distro_of",
    "attached_documents",
    "sbom_report",
    "parse_provenance",
    "provenance_report",
    "dockerfile_source",
    "browse_url",
    "HOW_TO_ATTEST",
]
