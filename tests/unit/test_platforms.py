"""Platform strings are written one way everywhere."""

from __future__ import annotations


def test_every_platform_type_is_written_the_same_way() -> None:
    from dockerhub_cli.models.images import PlatformInfo
    from dockerhub_cli.oci.platform import Platform, format_platform

    assert format_platform("linux", "arm", "v7") == "linux/arm/v7"
    assert str(Platform("linux", "arm", "v7")) == "linux/arm/v7"
    assert str(PlatformInfo(os="linux", architecture="amd64")) == "linux/amd64"
