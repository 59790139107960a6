"""s3:// against a real S3 API on loopback (moto's threaded server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

try:  # tests/ as a package (tests/__init__.py) or as a namespace package on sys.path
    from tests._s3 import make_bucket, s3_client, s3_endpoint  # noqa: F401  (a fixture)
except ImportError:  # tests/ is a plain folder that pytest put on sys.path
    from _s3 import make_bucket, s3_client, s3_endpoint  # noqa: F401

from ocrprep import storage
from ocrprep.config import StorageOptions
from ocrprep.errors import AccessDenied, ImageTooLarge, MalformedRequest, ObjectNotFound, StorageError


@pytest.fixture
def options(s3_endpoint: str) -> StorageOptions:  # noqa: F811
    return StorageOptions(s3_endpoint_url=s3_endpoint)


def test_write_read_stat(s3_endpoint: str, options: StorageOptions) -> None:  # noqa: F811
    bucket = make_bucket(s3_endpoint)
    uri = f"s3://{bucket}/in/a.jpg"
    assert storage.write_bytes(uri, b"jpeg bytes", options, content_type="image/jpeg") == uri
    assert storage.read_bytes(uri, options) == b"jpeg bytes"
    info = storage.stat(uri, options)
    assert info.size == 10 and info.etag and info.modified is not None
    head = s3_client(s3_endpoint).head_object(Bucket=bucket, Key="in/a.jpg")
    assert head["ContentType"] == "image/jpeg"
    assert storage.exists(uri, options) and not storage.exists(f"s3://{bucket}/in/b.jpg", options)
    with pytest.raises(ImageTooLarge):
        storage.read_bytes(uri, options, max_bytes=9)


def test_version_ids(s3_endpoint: str, options: StorageOptions) -> None:  # noqa: F811
    bucket = make_bucket(s3_endpoint, versioned=True)
    uri = f"s3://{bucket}/doc.png"
    storage.write_bytes(uri, b"first", options)
    first = storage.stat(uri, options).version_id
    storage.write_bytes(uri, b"second", options)
    second = storage.stat(uri, options).version_id
    assert first and second and first != second
    assert storage.read_bytes(f"{uri}?versionId={first}", options) == b"first"
    assert storage.read_bytes(uri, options) == b"second"
    assert storage.stat(f"{uri}?versionId={first}", options).size == 5


def test_missing_key_bucket_and_version(s3_endpoint: str, options: StorageOptions) -> None:  # noqa: F811
    bucket = make_bucket(s3_endpoint, versioned=True)
    storage.write_bytes(f"s3://{bucket}/a.jpg", b"x", options)
    for uri in (f"s3://{bucket}/missing.jpg", "s3://no-such-bucket-ocrprep/a.jpg",
                f"s3://{bucket}/a.jpg?versionId=doesnotexist"):
        with pytest.raises(ObjectNotFound) as caught:
            storage.read_bytes(uri, options)
        assert caught.value.__cause__ is not None  # translated with `from exc`
    with pytest.raises(ObjectNotFound):
        storage.stat(f"s3://{bucket}/missing.jpg", options)
    with pytest.raises(ObjectNotFound):
        storage.list_images(f"s3://{bucket}/nothing-here/", options)
    with pytest.raises(MalformedRequest, match="prefix"):
        storage.read_bytes(f"s3://{bucket}/folder/", options)


def test_list_images_recursive_sorted_prefix_exact(s3_endpoint: str, options: StorageOptions) -> None:  # noqa: F811
    bucket = make_bucket(s3_endpoint)
    for key in ("in/b.jpg", "in/a.PNG", "in/sub/c.tiff", "in/notes.txt", "in2/x.jpg", "top.gif"):
        storage.write_bytes(f"s3://{bucket}/{key}", b"x", options)
    expected = [f"s3://{bucket}/in/a.PNG", f"s3://{bucket}/in/b.jpg", f"s3://{bucket}/in/sub/c.tiff"]
    assert storage.list_images(f"s3://{bucket}/in", options) == expected
    assert storage.list_images(f"s3://{bucket}/in/", options) == expected
    assert storage.list_images(f"s3://{bucket}/in/b.jpg", options) == [f"s3://{bucket}/in/b.jpg"]
    assert len(storage.list_images(f"s3://{bucket}", options)) == 5


@pytest.mark.slow
def test_listing_pages_through_more_than_a_thousand_keys(s3_endpoint: str, options: StorageOptions) -> None:  # noqa: F811
    bucket = make_bucket(s3_endpoint)
    client = s3_client(s3_endpoint)
    for i in range(1005):
        client.put_object(Bucket=bucket, Key=f"many/{i:05d}.png", Body=b"")
    found = storage.list_images(f"s3://{bucket}/many/", options)
    assert len(found) == 1005 and found[-1].endswith("01004.png")


def test_a_key_is_never_a_local_path(
    s3_endpoint: str, options: StorageOptions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    bucket = make_bucket(s3_endpoint)
    monkeypatch.chdir(tmp_path)
    uri = f"s3://{bucket}/../../escape.jpg"
    storage.write_bytes(uri, b"remote", options)
    assert storage.read_bytes(uri, options) == b"remote"
    assert not any(tmp_path.parent.parent.glob("escape.jpg")) and not any(tmp_path.rglob("*"))
    keys = [o["Key"] for o in s3_client(s3_endpoint).list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["../../escape.jpg"]


def test_endpoint_from_the_standard_environment_variable(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    bucket = make_bucket(s3_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    storage.write_bytes(f"s3://{bucket}/env.jpg", b"via env")
    assert storage.read_bytes(f"s3://{bucket}/env.jpg") == b"via env"


def test_errors_are_translated() -> None:
    from botocore.exceptions import ClientError, EndpointConnectionError

    from ocrprep.storage.s3 import _translate

    def client_error(code: str, status: int) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": "m"},
                            "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject")

    assert isinstance(_translate(client_error("AccessDenied", 403), "read", "s3://b/k"), AccessDenied)
    assert isinstance(_translate(client_error("", 403), "read", "s3://b/k"), AccessDenied)
    assert isinstance(_translate(client_error("NoSuchKey", 404), "read", "s3://b/k"), ObjectNotFound)
    assert isinstance(_translate(client_error("SlowDown", 503), "read", "s3://b/k"), StorageError)
    offline = EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
    assert isinstance(_translate(offline, "read", "s3://b/k"), StorageError)


def test_unreachable_endpoint_is_a_storage_error() -> None:
    options = StorageOptions(s3_endpoint_url="http://127.0.0.1:9")
    with pytest.raises(StorageError) as caught:
        storage.read_bytes("s3://bucket/key.jpg", options)
    assert caught.value.__cause__ is not None


def test_content_type_is_guessed_from_the_key(s3_endpoint: str, options: StorageOptions) -> None:  # noqa: F811
    bucket = make_bucket(s3_endpoint)
    storage.write_bytes(f"s3://{bucket}/out/a.png", b"x", options)
    head = s3_client(s3_endpoint).head_object(Bucket=bucket, Key="out/a.png")
    assert head["ContentType"] == "image/png"


def test_failed_data_source_stores_nothing(s3_endpoint: str, options: StorageOptions) -> None:  # noqa: F811
    bucket = make_bucket(s3_endpoint)

    def chunks() -> Iterator[bytes]:
        yield b"part"
        raise RuntimeError("encoder failed")

    with pytest.raises(RuntimeError):
        storage.write_bytes(f"s3://{bucket}/f.png", chunks(), options)
    assert not storage.exists(f"s3://{bucket}/f.png", options)


def test_load_image_reads_through_s3(s3_endpoint: str) -> None:  # noqa: F811
    import numpy as np

    from ocrprep.config import Settings
    from ocrprep.imageio import encode_image, load_image

    bucket = make_bucket(s3_endpoint)
    image = np.random.default_rng(3).integers(0, 255, (30, 40, 3), dtype=np.uint8)
    settings = Settings(storage=StorageOptions(s3_endpoint_url=s3_endpoint))
    storage.write_bytes(f"s3://{bucket}/img.png", encode_image(image), settings.storage)
    np.testing.assert_array_equal(load_image(f"s3://{bucket}/img.png", settings=settings), image)
