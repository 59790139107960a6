"""A real S3 API on loopback (moto's threaded server), shared by the tests that need S3.

Use it from a test module (``s3_endpoint`` is a fixture; importing it registers it)::

    try:
        from tests._s3 import make_bucket, s3_endpoint  # tests/ is a package
    except ImportError:
        from _s3 import make_bucket, s3_endpoint  # tests/ is a plain folder on sys.path

    def test_x(s3_endpoint):
        bucket = make_bucket(s3_endpoint, versioned=True)
        options = StorageOptions(s3_endpoint_url=s3_endpoint)

(or ``from ._s3 import ...`` once ``tests/__init__.py`` exists, or list ``"tests._s3"`` in the
root conftest's ``pytest_plugins``).

The server starts once per session on a free port of 127.0.0.1; fake credentials are set in the
environment for the session so boto3's standard chain finds them and never reaches AWS.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["make_bucket", "s3_client", "s3_endpoint", "unique_bucket"]

_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The URL of a moto S3 server on 127.0.0.1 (fake credentials set in the environment)."""
    pytest.importorskip("moto.server", reason="moto[server] is a test extra: pip install 'moto[server]'")
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as patch:
        for name, value in _FAKE_ENV.items():
            patch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            patch.delenv(name, raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def s3_client(endpoint: str) -> Any:
    """A plain boto3 client for the test server (for arranging and checking state)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def make_bucket(endpoint: str, name: str | None = None, *, versioned: bool = False) -> str:
    """Create a bucket (a unique name when ``name`` is None) and return its name."""
    bucket = name or unique_bucket()
    client = s3_client(endpoint)
    client.create_bucket(Bucket=bucket)
    if versioned:
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def unique_bucket(prefix: str = "test") -> str:
    """A fresh, valid bucket name."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"

