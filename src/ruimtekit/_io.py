"""Output writing: atomic files, owned output folders, checksums and small file helpers.

The discipline (see ``docs/architecture.md``, *Writing files*):

* Every file ruimtekit writes goes through :func:`atomic_path`: the data is written to a
  temporary file in the destination folder and renamed over the target only when writing
  succeeded, so a failed run leaves earlier outputs intact and never a half-written file.
* Output folders go through :func:`atomic_dir`: built in a temporary sibling folder and
  moved into place when complete. ruimtekit never deletes or moves anything it did not
  create: a folder it made carries a small manifest (:data:`MANIFEST`, the list of files
  it wrote) so a re-run replaces its own files and removes its own stale ones, while a
  user's files in that folder are kept. A non-empty folder without the manifest is refused
  (:class:`OutputError`) unless ``overwrite=True``, which writes ruimtekit's files into it
  (replacing same-named files) and still removes nothing else.
* Temporary files and folders are removed on every error path; folders and files are
  created with the process umask (readable by the group under the usual ``022``/``002``).
* An operating-system error on an output (a folder where a file is expected, a read-only
  folder, a file where a folder is expected) is raised as :class:`OutputError` naming the
  path.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruimtekit import defaults
from ruimtekit._errors import InputError, OutputError, StudyError

MANIFEST = ".ruimtekit-output.json"
"""Name of the manifest file ruimtekit writes into every output folder it creates."""

_GDAL_SIDE_SUFFIXES = ("-wal", "-shm", "-journal", ".aux.xml")
_LEGACY_MARKERS = {"provenance.json": "data", "maps.json": "maps"}


def _ensure_folder(folder: Path, what: Path) -> None:
    """Create ``folder`` (and parents) or raise :class:`OutputError` naming ``what``."""
    for p in (folder, *folder.parents):
        if p.exists() and not p.is_dir():
            raise OutputError(what, f"{p} is a file, so the output folder cannot be created",
                              "choose another output location or rename that file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(what, f"cannot create folder {folder}: {exc.strerror or exc}",
                          "choose a writable output location") from None


def check_output_file(target: str | Path) -> Path:
    """Fail fast (before any work) when ``target`` cannot be written as a file.

    Parameters
    ----------
    target : str or Path
        Output file path.

    Returns
    -------
    Path
        ``target`` as a Path.

    Raises
    ------
    OutputError
        ``target`` is an existing folder, or its folder cannot be created or written.
    """
    target = Path(target)
    if target.is_dir():
        raise OutputError(target, "is a folder, but a file is expected here",
                          "give a file name (e.g. out/result.gpkg), not a folder")
    _ensure_folder(target.parent, target)
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputError(target, "the file is read-only; ruimtekit does not replace "
                          "write-protected files", "choose another output name or make the "
                          "file writable")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise OutputError(target, f"folder {target.parent} is not writable",
                          "choose a writable output location or fix the folder's permissions")
    return target


def _remove_tmp(tmp_path: Path) -> None:
    for p in (tmp_path, *(tmp_path.with_name(tmp_path.name + s) for s in _GDAL_SIDE_SUFFIXES)):
        with contextlib.suppress(OSError):
            if p.is_dir() and not p.is_symlink():
                _rmtree(p)
            else:
                p.unlink()


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
        Temporary path to write to. On an exception it (and GDAL side files such as
        ``-journal``) is removed and the target is left untouched.

    Raises
    ------
    OutputError
        ``target`` is a folder, or its folder cannot be created or written (names the path).
    """
    target = check_output_file(target)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=suffix if suffix is not None else target.suffix,
            dir=target.parent,
        )
    except OSError as exc:
        raise OutputError(target, f"cannot write in {target.parent}: {exc.strerror or exc}",
                          "choose a writable output location") from None
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()  # writers such as GDAL refuse to overwrite; let them create it (umask)
    try:
        yield tmp_path
        if not tmp_path.exists():
            raise RuntimeError(f"nothing was written to the temporary file for {target}")
        if target.is_dir():
            raise OutputError(target, "is a folder, but a file is expected here",
                              "give a file name, not a folder")
        try:
            os.replace(tmp_path, target)
        except OSError as exc:
            raise OutputError(target, f"cannot replace the output: {exc.strerror or exc}",
                              "check that the file and its folder are writable") from None
    except BaseException:
        _remove_tmp(tmp_path)
        raise


def _make_tmp_dir(parent: Path, name: str) -> Path:
    """A new hidden folder in ``parent`` created with the umask (unlike mkdtemp's 0700)."""
    for _ in range(100):
        p = parent / f".{name}.tmp-{secrets.token_hex(4)}"
        try:
            p.mkdir(mode=0o777)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(parent / name, f"cannot write in {parent}: {exc.strerror or exc}",
                              "choose a writable output location") from None
        return p
    raise OutputError(parent / name, "cannot create a temporary folder",
                      "remove stale .*.tmp-* folders")  # pragma: no cover


def _read_manifest(folder: Path, kind: str) -> list[str] | None:
    """Files listed in ``folder``'s manifest when ruimtekit made it for outputs of this
    ``kind``; None when it did not (no manifest, or a folder of another kind: a maps run
    must never remove a study's data files)."""
    m = folder / MANIFEST
    if m.is_file():
        try:
            rec = json.loads(m.read_text(encoding="utf-8")[:10_000_000])
        except (OSError, ValueError):
            return None
        if not isinstance(rec, dict) or rec.get("kind", "output") != kind:
            return None
        return [f for f in rec.get("files", []) if isinstance(f, str)]
    for marker, mkind in _LEGACY_MARKERS.items():  # written by ruimtekit before manifests
        p = folder / marker
        with contextlib.suppress(OSError):
            if mkind == kind and p.is_file() and p.stat().st_size < 50_000_000:
                text = p.read_text(encoding="utf-8", errors="replace")
                if (marker == "provenance.json" and '"ruimtekit_version"' in text) or (
                        marker == "maps.json" and (folder / "index.html").is_file()):
                    return []  # ours, but which files is unknown: nothing is removed
    return None


def _files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if (p.is_file() or p.is_symlink()) and p.name != MANIFEST)


def _safe_rel(folder: Path, rel: str) -> Path | None:
    """``folder / rel`` when it stays inside ``folder`` (manifests are data, not trusted)."""
    p = folder / rel
    if Path(rel).is_absolute() or ".." in Path(rel).parts:
        return None
    return p


def _write_manifest(folder: Path, files: list[str], kind: str) -> None:
    from ruimtekit import __version__

    (folder / MANIFEST).write_text(json.dumps(
        {"written_by": "ruimtekit", "version": __version__, "kind": kind, "files": files},
        indent=1) + "\n", encoding="utf-8")


def check_output_dir(target: str | Path, overwrite: bool = False, kind: str = "output") -> Path:
    """Fail fast (before any work) when folder ``target`` may not be written.

    Parameters
    ----------
    target : str or Path
        Output folder.
    overwrite : bool
        Allow writing into a non-empty folder that ruimtekit did not make.
    kind : str
        Kind of output (``data``, ``maps``, ...): a folder ruimtekit made for another kind
        counts as not made by ruimtekit.

    Raises
    ------
    OutputError
        ``target`` is a file, is a non-empty folder without ruimtekit's manifest (and
        ``overwrite`` is False), or cannot be created.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OutputError(target, "is a file, but an output folder is expected here",
                          "give a folder path (e.g. maps/mystudy) or move the file away")
    if target.is_dir() and not overwrite and _read_manifest(target, kind) is None:
        try:
            content = sorted(p.name for p in target.iterdir())
        except OSError as exc:
            raise OutputError(target, f"cannot read the folder: {exc.strerror or exc}",
                              "choose a readable, writable output folder") from None
        if content:
            shown = ", ".join(content[:3]) + (", ..." if len(content) > 3 else "")
            raise OutputError(
                target, f"folder is not empty ({len(content)} entries: {shown}) and was not "
                "made by ruimtekit; refusing to write over it",
                "choose a new or empty folder, or pass --overwrite to write ruimtekit's files "
                "into it (files of the same name are replaced, nothing else is removed)")
    _ensure_folder(target.parent, target)
    return target


@contextlib.contextmanager
def atomic_dir(target: str | Path, overwrite: bool = False,
               kind: str = "output") -> Iterator[Path]:
    """Yield a temporary folder whose files are moved into folder ``target`` on success.

    Parameters
    ----------
    target : str or Path
        Output folder. When missing, the finished temporary folder is renamed to it
        (one atomic step). When it exists, each new file replaces its namesake
        atomically, files listed in the previous manifest but not written again are
        removed, and every other file in the folder is kept.
    overwrite : bool
        Allow writing into a non-empty folder that ruimtekit did not make.
    kind : str
        Kind of output recorded in the manifest (``data`` for a study's processed outputs,
        ``maps`` for maps); only files of a manifest of the same kind are ever removed.

    Yields
    ------
    Path
        A new, empty temporary folder next to ``target`` (removed on any error, leaving
        ``target`` untouched).

    Raises
    ------
    OutputError
        See :func:`check_output_dir`; also when a new file would replace a folder (or the
        other way round), or the final move fails (names the path).
    """
    target = check_output_dir(target, overwrite, kind)
    tmp = _make_tmp_dir(target.parent, target.name)
    try:
        yield tmp
        new_files = _files_under(tmp)
        _write_manifest(tmp, new_files, kind)
        if not target.exists():
            try:
                os.replace(tmp, target)
            except OSError as exc:
                raise OutputError(target, f"cannot move the output into place: "
                                  f"{exc.strerror or exc}", "check the folder's permissions") from None
            return
        check_output_dir(target, overwrite, kind)  # re-check: it may have changed meanwhile
        _merge_into(tmp, target, new_files, kind)
        _rmtree(tmp)
    except BaseException:
        _rmtree(tmp)
        raise


def _merge_into(tmp: Path, target: Path, new_files: list[str], kind: str) -> None:
    """Move ``new_files`` from ``tmp`` into ``target``; drop own stale files; new manifest."""
    old_own = _read_manifest(target, kind) or []
    for rel in new_files:  # conflicts first, so a refusal leaves the target untouched
        dest = target / rel
        if dest.is_dir() and not dest.is_symlink():
            raise OutputError(dest, "is a folder where ruimtekit writes a file",
                              "move that folder away or choose another output folder")
        for parent in Path(rel).parents:
            q = target / parent
            if str(parent) != "." and q.exists() and not q.is_dir():
                raise OutputError(q, "is a file where ruimtekit writes a folder",
                                  "move that file away or choose another output folder")
    try:
        for rel in new_files:
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / rel, dest)
        keep = set(new_files)
        for rel in old_own:
            p = _safe_rel(target, rel)
            if rel in keep or p is None:
                continue
            with contextlib.suppress(OSError):
                if p.is_file() or p.is_symlink():
                    p.unlink()
                    for parent in p.parents:  # folders emptied by removing own files
                        if parent == target or target not in parent.parents:
                            break
                        parent.rmdir()
        if not (target / MANIFEST).exists() or _read_manifest(target, kind) is not None:
            os.replace(tmp / MANIFEST, target / MANIFEST)  # else: another kind's record stays
    except OSError as exc:
        raise OutputError(target, f"cannot move the output files into place: "
                          f"{exc.strerror or exc}", "check the folder's permissions") from None


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


# --------------------------------------------------------------------------------------
# resource bounds for inputs: YAML, ZIP members, tables

def _env_limit(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


MAX_YAML_BYTES = defaults.MAX_YAML_BYTES
"""Largest study file read (bytes)."""
MAX_YAML_NODES = defaults.MAX_YAML_NODES
"""Largest study file after expanding aliases (YAML nodes); stops "billion laughs" bombs."""
MAX_ZIP_MEMBER_BYTES = int(
    _env_limit("RUIMTEKIT_MAX_ZIP_MEMBER_MB", defaults.MAX_ZIP_MEMBER_MB) * 2**20)
"""Largest uncompressed ZIP member read (bytes; env ``RUIMTEKIT_MAX_ZIP_MEMBER_MB``, default
4096 MiB: the whole-country GTFS-NL ``stop_times.txt`` is about 1 GiB)."""
MAX_ZIP_RATIO = _env_limit("RUIMTEKIT_MAX_ZIP_RATIO", defaults.MAX_ZIP_RATIO)
"""Largest compression ratio (uncompressed / compressed size) of a ZIP member above
:data:`ZIP_RATIO_MIN_BYTES` (env ``RUIMTEKIT_MAX_ZIP_RATIO``; GTFS text compresses about
5–15×, a ZIP bomb thousands of times)."""
ZIP_MEMORY_FACTOR = defaults.ZIP_MEMORY_FACTOR
"""Memory needed to parse a text member, as a multiple of its inflated size (bytes read plus
pandas text columns; measured about 5× for GTFS ``stop_times.txt``). A member needing more
than the memory available (``MemAvailable``) is refused before reading instead of running
the machine out of memory; ``RUIMTEKIT_MEMORY_CHECK=0`` turns this off."""
ZIP_RATIO_MIN_BYTES = defaults.ZIP_RATIO_MIN_BYTES
"""Members smaller than this (bytes) are not checked for their compression ratio."""
MAX_TABLE_BYTES = int(_env_limit("RUIMTEKIT_MAX_TABLE_MB", defaults.MAX_TABLE_MB) * 2**20)
"""Largest CSV/XLSX table read whole (bytes; env ``RUIMTEKIT_MAX_TABLE_MB``, default 2048 MiB)."""


def check_zip_member(zf: Any, member: str, path: str | Path) -> Any:
    """Check one ZIP member's declared size and compression ratio before it is read.

    Parameters
    ----------
    zf : zipfile.ZipFile
        The open archive.
    member : str
        Member name.
    path : str or Path
        The archive (named in errors).

    Returns
    -------
    zipfile.ZipInfo

    Raises
    ------
    InputError
        The member inflates beyond :data:`MAX_ZIP_MEMBER_BYTES` or its compression ratio
        exceeds :data:`MAX_ZIP_RATIO` (a ZIP bomb or a corrupt archive). ``zipfile`` never
        returns more than the declared size, so the check bounds memory.
    """

    info = zf.getinfo(member)
    size, packed = int(info.file_size), max(int(info.compress_size), 1)
    if size > MAX_ZIP_MEMBER_BYTES:
        raise InputError(path, f"archive member {member} inflates to {size / 2**20:,.0f} MiB, "
                         f"above the limit of {MAX_ZIP_MEMBER_BYTES / 2**20:,.0f} MiB",
                         "use a smaller extract of the data, or raise the limit with the "
                         "environment variable RUIMTEKIT_MAX_ZIP_MEMBER_MB")
    avail = available_memory()
    if avail is not None and size * ZIP_MEMORY_FACTOR > avail:
        raise InputError(path, f"archive member {member} inflates to {size / 2**20:,.0f} MiB; "
                         f"reading it needs about {size * ZIP_MEMORY_FACTOR / 2**30:,.1f} GiB of "
                         f"memory, more than the {avail / 2**30:,.1f} GiB available",
                         "use a smaller extract (e.g. the feed clipped to the study region) or "
                         "a machine with more memory (RUIMTEKIT_MEMORY_CHECK=0 skips this check)")
    if size >= ZIP_RATIO_MIN_BYTES and size / packed > MAX_ZIP_RATIO:
        raise InputError(path, f"archive member {member} has a compression ratio of "
                         f"{size / packed:,.0f}:1 ({packed:,} bytes inflate to {size:,}); "
                         f"above {MAX_ZIP_RATIO:g}:1 this is a ZIP bomb or a corrupt archive",
                         "download the archive again from its source; if it is genuine, raise "
                         "the limit with RUIMTEKIT_MAX_ZIP_RATIO")
    return info


def available_memory() -> int | None:
    """Memory available to new allocations (bytes; Linux ``MemAvailable``), or None when
    unknown or the check is disabled (``RUIMTEKIT_MEMORY_CHECK=0``)."""
    if os.environ.get("RUIMTEKIT_MEMORY_CHECK", "1") in ("0", "false", "no"):
        return None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def open_zip_member(zf: Any, member: str, path: str | Path) -> Any:
    """Open a ZIP member for reading after :func:`check_zip_member` (binary stream).

    Reading a damaged member (bad CRC, corrupt deflate data, truncated archive) raises
    :class:`InputError` naming the archive and member instead of ``BadZipFile`` or
    ``zlib.error``.
    """
    check_zip_member(zf, member, path)
    try:
        return _CheckedMember(zf.open(member), member, path)
    except Exception as exc:  # noqa: BLE001 - zipfile raises many types for damage
        raise _damaged(path, member, exc) from None


def _damaged(path: str | Path, member: str, exc: Exception) -> Exception:

    return InputError(path, f"archive member {member} is damaged ({type(exc).__name__}: "
                      f"{str(exc)[:200]})", "download or pack the archive again")


class _CheckedMember:
    """A ZIP member stream whose read errors become :class:`InputError`."""

    def __init__(self, f: Any, member: str, path: str | Path) -> None:
        self._f, self._member, self._path = f, member, path

    def _call(self, name: str, *args: Any) -> Any:
        import zipfile
        import zlib

        try:
            return getattr(self._f, name)(*args)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise _damaged(self._path, self._member, exc) from None

    def read(self, *args: Any) -> bytes:
        return self._call("read", *args)

    def readline(self, *args: Any) -> bytes:
        return self._call("readline", *args)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> _CheckedMember:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def check_table_size(path: str | Path) -> int:
    """File size in bytes; :class:`InputError` beyond :data:`MAX_TABLE_BYTES`."""

    size = Path(path).stat().st_size
    if size > MAX_TABLE_BYTES:
        raise InputError(path, f"the table is {size / 2**20:,.0f} MiB, above the limit of "
                         f"{MAX_TABLE_BYTES / 2**20:,.0f} MiB for tables read whole",
                         "convert it to Parquet (read column-wise) or select the rows of the "
                         "study area first; or raise RUIMTEKIT_MAX_TABLE_MB")
    return size


def load_yaml(text: str, path: str | Path | None = None) -> Any:
    """Parse YAML safely with bounds: size, expanded size (aliases), duplicate keys.

    Parameters
    ----------
    text : str
        The YAML document.
    path : str or Path, optional
        File named in errors.

    Returns
    -------
    object
        As ``yaml.safe_load``.

    Raises
    ------
    StudyError
        The text is larger than :data:`MAX_YAML_BYTES`; expanding its aliases would give
        more than :data:`MAX_YAML_NODES` nodes ("billion laughs"); a mapping repeats a
        key (names both lines); or the YAML is invalid (names line and column).
    """
    import yaml

    if len(text) > MAX_YAML_BYTES:
        raise StudyError(path, f"the file is {len(text):,} characters, above the limit of "
                         f"{MAX_YAML_BYTES:,} for a study file",
                         "keep data in separate files and reference them by path")

    class _Loader(yaml.SafeLoader):
        pass

    def compose(loader: Any) -> Any:
        node = yaml.SafeLoader.compose_document(loader)
        if node is not None:
            _check_expanded(node, path)
        return node

    def mapping(loader: Any, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                raise StudyError(path, f"duplicate key {key!r} at line {line} (first at line "
                                 f"{seen[key]}); YAML would silently keep only the last one",
                                 "remove or rename one of them (e.g. give the second layer "
                                 "its own name)")
            seen[key] = line
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    _Loader.compose_document = compose  # type: ignore[method-assign]
    _Loader.construct_mapping = mapping  # type: ignore[method-assign]
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise StudyError(
            path, f"invalid YAML{where}: {getattr(exc, 'problem', None) or exc}",
            "fix the YAML syntax (indentation with spaces, `key: value` pairs)",
        ) from None
    except RecursionError:
        raise StudyError(path, "the YAML is nested too deeply",
                         "flatten the structure (a study file needs a few levels)") from None


def _check_expanded(root: Any, path: str | Path | None) -> None:
    """Expanded node count of a composed YAML graph (aliases counted every time they are
    used), computed in time linear in the number of distinct nodes."""
    import yaml

    memo: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in memo:
            continue
        if not done and id(node) in active:
            raise StudyError(path, f"the YAML refers to itself through an alias (line "
                             f"{node.start_mark.line + 1})", "remove the recursive alias")
        children: list[Any] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for kv in node.value for n in kv]
        if done:
            active.discard(id(node))
            memo[id(node)] = 1 + sum(memo.get(id(c), 0) for c in children)
            if memo[id(node)] > MAX_YAML_NODES:
                line = node.start_mark.line + 1
                raise StudyError(path, f"the YAML expands to more than {MAX_YAML_NODES:,} "
                                 f"values through aliases (*name) (at line {line}); this is "
                                 "an alias bomb or a mistake", "write the values out instead "
                                 "of nesting aliases, or remove the aliases")
            continue
        active.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in memo)
