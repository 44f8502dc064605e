"""Expand --input values (files, globs, folders) into file specs with source and generation."""

import os
import posixpath

from apache_beam.io.filesystems import FileSystems

GLOB_CHARS = set("*?[")
# Files the pipeline itself or common tools leave behind; never data.
IGNORED_PREFIXES = (".", "_")


def _is_local(path):
    return "://" not in path


def _match(pattern):
    return [m for r in FileSystems.match([pattern]) for m in r.metadata_list]


def _is_folder(path):
    if _is_local(path):
        return os.path.isdir(path)
    return path.endswith("/") or not FileSystems.exists(path)


def _generation(meta):
    """An opaque token that changes whenever the file's content may have changed."""
    if _is_local(meta.path):
        stat = os.stat(meta.path)
        return f"{stat.st_mtime_ns}-{stat.st_size}"
    # FileSystems metadata has no GCS object generation; last_updated + size stands in.
    return f"{int(meta.last_updated_in_seconds * 1_000_000)}-{meta.size_in_bytes}"


def source_of(path, override=None):
    """Return (source_system, path relative to the source folder) for one file path."""
    parts = path.replace("\\", "/").split("/")
    if "incoming" in parts[:-2]:
        at = len(parts) - 1 - parts[::-1].index("incoming")
        if at + 2 < len(parts):
            return override or parts[at + 1], "/".join(parts[at + 2 :])
    parent = parts[-2] if len(parts) >= 2 and parts[-2] else "default"
    return override or parent, parts[-1]


def expand_inputs(inputs, source_system=None):
    """Return one spec dict per data file matched by the inputs, sorted by URI, no duplicates."""
    found = {}
    for raw in inputs:
        path = os.path.abspath(raw) if _is_local(raw) else raw
        if GLOB_CHARS & set(path):
            metas = _match(path)
        elif _is_folder(path):
            metas = _match(posixpath.join(path.rstrip("/"), "**"))
        else:
            metas = _match(path)
        if not metas:
            raise FileNotFoundError(f"no input files match {raw!r}")
        for meta in metas:
            name = meta.path.rsplit("/", 1)[-1]
            if name.startswith(IGNORED_PREFIXES) or meta.path in found:
                continue
            if _is_local(meta.path) and os.path.isdir(meta.path):
                continue
            source, relpath = source_of(meta.path, source_system)
            found[meta.path] = {
                "uri": meta.path,
                "source_system": source,
                "relpath": relpath,
                "generation": _generation(meta),
                "size": meta.size_in_bytes,
            }
    return [found[uri] for uri in sorted(found)]
