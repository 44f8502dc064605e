"""One small interface over local folders and gs:// buckets.

Local paths use the filesystem; gs:// URIs use google-cloud-storage, which honours
STORAGE_EMULATOR_HOST so the same code runs against gcp-storage-emulator in tests.
"""

import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

GS_PREFIX = "gs://"


def is_gcs(uri: str) -> bool:
    """True for gs://bucket/... URIs."""
    return uri.startswith(GS_PREFIX)


def join(base: str, *parts: str) -> str:
    """Join URI parts with single slashes, for local paths and gs:// alike."""
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])


def split_gcs(uri: str) -> tuple[str, str]:
    """gs://bucket/a/b -> ("bucket", "a/b")."""
    bucket, _, name = uri[len(GS_PREFIX) :].partition("/")
    return bucket, name


@cache
def _client():
    from google.cloud import storage

    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(credentials=AnonymousCredentials(), project="emulator")
    return storage.Client()


def _blob(uri: str):
    bucket, name = split_gcs(uri)
    return _client().bucket(bucket).blob(name)


def exists(uri: str) -> bool:
    """Whether a file exists at the URI."""
    return _blob(uri).exists() if is_gcs(uri) else Path(uri).is_file()


def read_text(uri: str) -> str:
    """The whole file as UTF-8 text."""
    if is_gcs(uri):
        return _blob(uri).download_as_bytes().decode("utf-8")
    return Path(uri).read_text(encoding="utf-8")


def iter_lines(uri: str) -> Iterator[str]:
    """The file's lines without their line endings, streamed."""
    if is_gcs(uri):
        with _blob(uri).open("r", encoding="utf-8") as handle:
            yield from (line.rstrip("\n") for line in handle)
        return
    with open(uri, encoding="utf-8") as handle:
        yield from (line.rstrip("\n") for line in handle)


def write_text(uri: str, text: str) -> None:
    """Create or replace a file with UTF-8 text."""
    if is_gcs(uri):
        _blob(uri).upload_from_string(text.encode("utf-8"))
        return
    path = Path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def list_files(prefix: str) -> list[str]:
    """Every file below a folder URI, sorted."""
    if is_gcs(prefix):
        bucket, name = split_gcs(prefix)
        name = name.rstrip("/") + "/" if name else ""
        return sorted(
            f"{GS_PREFIX}{bucket}/{blob.name}"
            for blob in _client().list_blobs(bucket, prefix=name)
            if not blob.name.endswith("/")
        )
    root = Path(prefix)
    return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def open_binary(uri: str):
    """A readable binary file object, streamed (for COPY ... FROM STDIN)."""
    if is_gcs(uri):
        return _blob(uri).open("rb")
    return open(uri, "rb")
