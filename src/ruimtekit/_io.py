"""Atomic output writing, checksums and small file helpers.

Every file ruimtekit writes goes through :func:`atomic_path`: the data is written to a
temporary file in the destination folder and renamed over the target only when writing
succeeded, so a failed run leaves earlier outputs intact and never a half-written file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(target: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it to ``target`` on success.

    Parameters
    ----------
    target : str or Path
        Final output path. Its parent folder is created when missing.
    suffix : str, optional
        Suffix of the temporary file (defaults to the target's suffix, so drivers that
        infer the format from the extension, such as GDAL's, keep working).

    Yields
    ------
    Path
        Temporary path to write to. On an exception it is removed and the target is
        left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=suffix if suffix is not None else target.suffix,
        dir=target.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()  # writers such as GDAL refuse to overwrite; let them create it
    try:
        yield tmp_path
        if not tmp_path.exists():
            raise RuntimeError(f"nothing was written to the temporary file for {target}")
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces folder ``target`` on success.

    The previous folder (if any) is kept until the new one is complete.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old.{os.getpid()}")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            _rmtree(old)
    except BaseException:
        _rmtree(tmp)
        raise


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def write_text(target: str | Path, text: str) -> Path:
    """Write text atomically (UTF-8)."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_json(target: str | Path, obj: Any) -> Path:
    """Write JSON atomically (UTF-8, indented, non-ASCII kept)."""
    return write_text(target, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file (streamed)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
