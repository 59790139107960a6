"""parse_uri and join: the accepted forms, the refusals, and round trips (Hypothesis)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocrprep.errors import MalformedRequest
from ocrprep.storage import Location, join, parse_uri


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("scans/a.jpg", Location("file", key="scans/a.jpg", path=Path("scans/a.jpg"), bare=True)),
        ("/data/a b.jpg", Location("file", key="/data/a b.jpg", path=Path("/data/a b.jpg"), bare=True)),
        ("file:///data/a%20b.jpg", Location("file", key="/data/a b.jpg", path=Path("/data/a b.jpg"))),
        ("file://localhost/x.png", Location("file", key="/x.png", path=Path("/x.png"))),
        ("s3://bucket/a/b.jpg", Location("s3", "bucket", "a/b.jpg")),
        ("S3://bucket/a%20b.jpg", Location("s3", "bucket", "a%20b.jpg")),
        ("s3://bucket/a.jpg?versionId=3HL4kqtJ", Location("s3", "bucket", "a.jpg", version_id="3HL4kqtJ")),
        ("s3://bucket", Location("s3", "bucket", "")),
        ("s3://bucket/in/", Location("s3", "bucket", "in/")),
        ("s3://bucket/../../etc/passwd", Location("s3", "bucket", "../../etc/passwd")),
        ("mem://box/k?x=1", Location("mem", "box", "k?x=1")),
        ("notes:2024/a.jpg", Location("file", key="notes:2024/a.jpg", path=Path("notes:2024/a.jpg"), bare=True)),
        ("https://example.org/a.jpg?sig=1", Location("https", "example.org", "/a.jpg?sig=1")),
    ],
)
def test_accepted_forms(uri: str, expected: Location) -> None:
    assert parse_uri(uri) == expected


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("", "empty"),
        ("gs://bucket/key", "unsupported URI scheme 'gs'"),
        ("ftp://host/x", "unsupported"),
        ("file://otherhost/x", "names host"),
        ("s3:///key", "bucket"),
        ("s3://bad bucket/key", "bucket"),
        ("https:///path", "no host"),
        ("a\x00b", "NUL"),
        ("s3:/bucket/key", "without '//': write s3://bucket/key"),
        ("s3:bucket/key", "without '//'"),
        ("file:/etc/passwd", "without '//'"),
    ],
)
def test_refused_forms(uri: str, message: str) -> None:
    with pytest.raises(MalformedRequest, match=message):
        parse_uri(uri)


def test_prefix_detection() -> None:
    assert parse_uri("s3://b/in/").is_prefix and parse_uri("mem://b").is_prefix
    assert not parse_uri("s3://b/in/a.jpg").is_prefix and not parse_uri("in/").is_prefix


_buckets = st.from_regex(re.compile(r"[a-z0-9][a-z0-9.-]{2,40}"), fullmatch=True)
_keys = st.text(st.characters(exclude_characters="\x00"), max_size=60).filter(
    lambda k: re.search(r"\?versionId=[^&?#/]+$", k) is None
)
_versions = st.none() | st.from_regex(re.compile(r"[A-Za-z0-9._-]{1,32}"), fullmatch=True)
_names = st.characters(exclude_categories=("Cs",), exclude_characters="/\x00") | st.sampled_from(
    [os.fsdecode(bytes([b])) for b in range(0x80, 0x100)]  # undecodable bytes of a Linux name
)
_segments = st.text(_names, min_size=1, max_size=12).filter(
    lambda s: s not in (".", "..")
)


@given(scheme=st.sampled_from(["s3", "mem"]), bucket=_buckets, key=_keys, version=_versions)
def test_object_uris_round_trip(scheme: str, bucket: str, key: str, version: str | None) -> None:
    location = Location(scheme, bucket, key, version_id=version)
    assert parse_uri(location.uri) == location


@given(segments=st.lists(_segments, min_size=1, max_size=5))
def test_file_uris_round_trip(segments: list[str]) -> None:
    path = Path("/", *segments)
    uri = Location("file", key=str(path), path=path).uri
    assert uri.startswith("file:///")
    assert parse_uri(uri).path == path
    assert parse_uri(str(path)).path == path


@pytest.mark.parametrize(
    ("prefix", "name", "expected"),
    [
        ("s3://b/out", "x/y.png", "s3://b/out/x/y.png"),
        ("s3://b/out/", "y.png", "s3://b/out/y.png"),
        ("s3://b", "y.png", "s3://b/y.png"),
        ("s3://b/in/a.jpg?versionId=v1", "y.png", "s3://b/in/a.jpg/y.png"),
        ("mem://m/o", "y.png", "mem://m/o/y.png"),
        ("out", "y.png", "out/y.png"),
        ("file:///srv/out", "y.png", "file:///srv/out/y.png"),
    ],
)
def test_join(prefix: str, name: str, expected: str) -> None:
    assert join(prefix, name) == expected


@pytest.mark.parametrize("name", ["", "/abs.png", "../up.png", "a/../../b.png"])
def test_join_refuses_escaping_names(name: str) -> None:
    with pytest.raises(MalformedRequest):
        join("s3://b/out", name)
