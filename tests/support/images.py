"""Build small but real container images and push them to a real registry; one module per job:

* ``tests.support.oci_build``: media types, blobs, tar layers, :class:`ImageSpec` and the pure-
  Python :class:`OCILayout` writer (platform variants, indexes, annotations, controlled
  history; same spec, same digest);
* ``tests.support.attestations``: BuildKit-style in-toto statements (SPDX SBOM, SLSA
  provenance v0.2 and v1);
* ``tests.support.seeding``: ``skopeo copy`` pushes (:func:`push`), the tiny auth-aware
  :class:`RegistryHTTP` client and what the registry serves back (:class:`SeededImages`);
* ``tests.support.standard_images``: the standard images (umoci-built ``demo/app``, bases,
  attested multi-platform images, ``demo/many``) and :func:`seed_registry`;
* ``tests.support.custom_images``: :class:`ImagePusher` for one test's own images.

Import from those. This module only re-exports them for code that still imports it."""

from __future__ import annotations

from tests.support.attestations import (  # noqa: F401
    ProvenanceInfo,
    SbomPackage,
    alpine_packages,
    provenance_statement,
    provenance_statement_v1,
    spdx_statement,
)
from tests.support.custom_images import (  # noqa: F401
    ImagePusher,
    iter_blobs,
)
from tests.support.oci_build import (  # noqa: F401
    ACCEPT_ALL,
    ATTESTATION_MANIFEST,
    BASE_DIGEST,
    BASE_NAME,
    DEFAULT_CREATED,
    DOCKER_CONFIG,
    DOCKER_LAYER_GZIP,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    IN_TOTO,
    IN_TOTO_STATEMENT_V01,
    INDEX_TYPES,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    PREDICATE_TYPE,
    PUSH_TIMEOUT,
    REF_NAME,
    REFERENCE_DIGEST,
    REFERENCE_TYPE,
    SLSA_V02_PREDICATE,
    SPDX_PREDICATE,
    UNKNOWN_PLATFORM,
    BuiltImage,
    Descriptor,
    File,
    FileValue,
    ImageBuildError,
    ImageSpec,
    Layer,
    OCILayout,
    Step,
    Symlink,
    json_bytes,
    make_layer,
    parse_platform,
    platform_string,
    random_bytes,
    sha256_digest,
)
from tests.support.seeding import (  # noqa: F401
    HTTPResult,
    ManifestInfo,
    RegistryHTTP,
    SeededImages,
    http_push,
    parse_challenge,
    push,
    read_back,
    skopeo_inspect_raw,
)
from tests.support.standard_images import (  # noqa: F401
    ALPINE_BASE_DIGESTS,
    MANY_ALIASES,
    MANY_VARIANT_VERSIONS,
    MANY_VERSIONS,
    StandardImages,
    attested_spec,
    base_spec,
    based_spec,
    build_standard_images,
    many_spec,
    seed_registry,
)
