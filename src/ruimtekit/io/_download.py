"""HTTP download and cache engine for ``ruimtekit fetch``.

Every cached file ``<cache>/<relpath>`` has a metadata record ``<relpath>.meta.json`` (source,
URL, request, retrieval time UTC, licence, attribution, bytes, SHA-256, schema/columns) and a
line in ``<cache>/SHA256SUMS`` (``sha256sum -c`` format). Downloads:

* stream into ``<file>.part`` and resume it with an HTTP ``Range`` request after a dropped
  connection or a truncated body (Content-Length larger than what arrived);
* retry 5xx, 429 and connection errors with exponential backoff, a bounded number of times;
* stop at once on other 4xx with an :class:`~ruimtekit._errors.InputError` naming the source,
  the URL, the HTTP status and the fix;
* follow redirects (the final URL is recorded);
* verify an expected SHA-256 when one is given, and the recorded SHA-256 whenever a cached
  file is reused (a changed cache file is an error, never silently used);
* rename the completed ``.part`` onto the target (atomic), so the target is always whole.

``offline=True`` never touches the network: a missing cache entry is an ``InputError``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ruimtekit import __version__, _io, defaults
from ruimtekit._errors import InputError

log = logging.getLogger(__name__)

USER_AGENT = f"ruimtekit/{__version__} (+https://github.com/ruimtekit; open-data fetch)"
META_SUFFIX = ".meta.json"
PART_SUFFIX = ".part"
SUMS_NAME = "SHA256SUMS"
_RETRY_STATUS = {429, 500, 502, 503, 504, 507, 520, 521, 522, 524}
_NET_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
               requests.exceptions.ContentDecodingError)
_sums_lock = threading.Lock()


@dataclass(frozen=True)
class Provenance:
    """Who publishes a source and under which terms.

    Attributes
    ----------
    source : str
        Catalogue name (e.g. ``"cbs"``).
    title : str
        Human-readable title.
    licence : str
        Licence (e.g. ``"CC BY 4.0"``).
    attribution : str
        Attribution text to show on maps and reports.
    """

    source: str
    title: str
    licence: str
    attribution: str


@dataclass(frozen=True)
class CacheEntry:
    """A cached file and its metadata record."""

    path: Path
    meta: dict[str, Any]

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the file."""
        return str(self.meta["sha256"])


def utc_now() -> str:
    """Current UTC time, ISO 8601 with ``Z`` (seconds)."""
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def request_key(url: str, params: Mapping[str, Any] | None = None, **extra: Any) -> str:
    """Stable hash of a request (URL, parameters and extra settings) for cache validation."""
    blob = json.dumps({"url": url, "params": dict(params or {}), **extra}, sort_keys=True,
                      default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class Downloader:
    """HTTP client with a checksummed on-disk cache.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Cache root (e.g. ``data/raw/delft``); created when missing.
        :func:`ruimtekit.io.fetch.fetch_region` sets it to its cache folder, so a
        downloader made for it needs none: ``Downloader(offline=True)``.
    offline : bool
        Never use the network; only cached files.
    quiet : bool
        No progress bars.
    refresh : bool
        Ignore cached files and download again.
    max_attempts : int
        Attempts per request (first try included) for 5xx/429/connection errors and
        truncated bodies. Must be ≥ 1.
    backoff_s : float
        First retry delay in seconds; doubles each retry, capped at 30 s.
    timeout_s : float
        Connect/read timeout per request in seconds.
    session : requests.Session, optional
        Session to use (a new one with a ruimtekit User-Agent by default).
    sleep : callable, optional
        Delay function (seconds); tests pass a no-op.
    """

    def __init__(
        self,
        cache_dir: str | Path | None = None,
        *,
        offline: bool = False,
        quiet: bool = False,
        refresh: bool = False,
        max_attempts: int = defaults.DOWNLOAD_ATTEMPTS,
        backoff_s: float = defaults.DOWNLOAD_BACKOFF_S,
        timeout_s: float = defaults.DOWNLOAD_TIMEOUT_S,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.offline = offline
        self.quiet = quiet
        self.refresh = refresh
        self.max_attempts = int(max_attempts)
        self.backoff_s = float(backoff_s)
        self.timeout_s = float(timeout_s)
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", USER_AGENT)
        self._sleep = sleep
        self.requests_made = 0

    # ------------------------------------------------------------------ cache records
    def path(self, relpath: str | Path) -> Path:
        """Absolute cache path of ``relpath``."""
        if self.cache_dir is None:
            raise ValueError("the downloader has no cache folder: give Downloader(cache_dir)")
        return self.cache_dir / relpath

    def meta_path(self, relpath: str | Path) -> Path:
        """Metadata record path of ``relpath``."""
        p = self.path(relpath)
        return p.with_name(p.name + META_SUFFIX)

    def cached(self, relpath: str | Path, request: str | None = None) -> CacheEntry | None:
        """The cache entry of ``relpath`` when present (and made for ``request``), else ``None``.

        The file's SHA-256 is checked against its metadata record.

        Raises
        ------
        InputError
            When the file no longer matches its recorded checksum or the record is unreadable.
        """
        p, mp = self.path(relpath), self.meta_path(relpath)
        if not p.exists() or not mp.exists():
            return None
        try:
            meta = json.loads(mp.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(mp, f"unreadable cache metadata record ({exc})",
                             f"delete {mp.name} and {p.name} and fetch again") from None
        if request is not None and meta.get("request_key") != request:
            return None
        found = _io.sha256(p)
        if found != meta.get("sha256"):
            raise InputError(
                p, f"checksum mismatch for cached {meta.get('source', '?')} file: recorded "
                   f"sha256 {meta.get('sha256')}, found {found} (the file changed after it was "
                   f"downloaded from {meta.get('url', '?')})",
                f"delete {p.name} (and {mp.name}) and run `ruimtekit fetch` again, or pass "
                "--refresh to download every source afresh")
        return CacheEntry(p, meta)

    def record(
        self,
        relpath: str | Path,
        prov: Provenance,
        *,
        url: str,
        request: str,
        columns: list[str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> CacheEntry:
        """Write the metadata record of an existing cache file and update ``SHA256SUMS``."""
        p = self.path(relpath)
        digest = _io.sha256(p)
        meta: dict[str, Any] = {
            "file": str(Path(relpath).as_posix()),
            "source": prov.source,
            "title": prov.title,
            "url": url,
            "request_key": request,
            "retrieved_utc": utc_now(),
            "licence": prov.licence,
            "attribution": prov.attribution,
            "bytes": p.stat().st_size,
            "sha256": digest,
            "schema": {"columns": list(columns) if columns is not None else None},
            "ruimtekit_version": __version__,
        }
        if extra:
            meta.update(extra)
        _io.write_json(self.meta_path(relpath), meta)
        self._update_sums(Path(relpath).as_posix(), digest)
        return CacheEntry(p, meta)

    def _update_sums(self, rel: str, digest: str) -> None:
        sums = self.path(SUMS_NAME)
        with _sums_lock:
            lines: dict[str, str] = {}
            if sums.exists():
                for line in sums.read_text(encoding="utf-8").splitlines():
                    m = re.fullmatch(r"([0-9a-f]{64})\s+\*?(.+)", line.strip())
                    if m:
                        lines[m.group(2)] = m.group(1)
            lines[rel] = digest
            _io.write_text(sums, "".join(f"{d}  {f}\n" for f, d in sorted(lines.items())))

    def offline_missing(self, relpath: str | Path, prov: Provenance, url: str) -> InputError:
        """The error for a source that is not cached while offline."""
        return InputError(
            self.path(relpath),
            f"offline and {prov.title} ({prov.source}) is not in the cache (it would be "
            f"downloaded from {url})",
            "run `ruimtekit fetch` once without --offline (network needed), or copy a previous "
            f"cache folder to {self.cache_dir}")

    # ------------------------------------------------------------------ HTTP
    def _backoff(self, attempt: int) -> None:
        delay = min(30.0, self.backoff_s * (2 ** attempt))
        if delay > 0:
            self._sleep(delay)

    def _http_error(self, prov: Provenance, url: str, resp: requests.Response) -> InputError:
        snippet = re.sub(r"\s+", " ", resp.text[:200]) if resp.content else ""
        status = resp.status_code
        if status == 404:
            fix = ("the dataset or year may not be published (yet) at this address; check the "
                   f"URL, the --year, or override the base URL with "
                   f"RUIMTEKIT_SOURCE_BASE_URL_{prov.source.upper()}")
        elif status in (401, 403):
            fix = "the service needs a key or refuses this client; check the API key/terms"
        else:
            fix = "check the request parameters (region, year) and the source's documentation"
        return InputError(None, f"{prov.title} ({prov.source}): HTTP {status} "
                                f"{resp.reason or ''} for {resp.url}"
                                + (f" — {snippet}" if snippet else ""), fix)

    def _request(self, prov: Provenance, url: str, params: Mapping[str, Any] | None,
                 headers: Mapping[str, str] | None, stream: bool,
                 attempts: int | None = None) -> requests.Response:
        """GET with bounded retries on 5xx/429/connection errors; 4xx → InputError."""
        if self.offline:
            raise InputError(None, f"offline: cannot request {prov.title} ({prov.source}) "
                                   f"from {url}",
                             "run without --offline (network needed) to fill the cache")
        attempts = self.max_attempts if attempts is None else attempts
        last: str = ""
        for attempt in range(attempts):
            try:
                self.requests_made += 1
                resp = self.session.get(url, params=params, headers=dict(headers or {}),
                                        stream=stream, timeout=self.timeout_s,
                                        allow_redirects=True)
            except _NET_ERRORS as exc:
                last = f"connection error: {exc.__class__.__name__}: {exc}"
                log.warning("%s: %s (attempt %d/%d)", prov.source, last, attempt + 1, attempts)
            else:
                if resp.status_code in _RETRY_STATUS:
                    last = f"HTTP {resp.status_code} {resp.reason or ''}".strip()
                    log.warning("%s: %s for %s (attempt %d/%d)", prov.source, last, resp.url,
                                attempt + 1, attempts)
                    resp.close()
                elif resp.status_code == 416 and headers and "Range" in headers:
                    return resp
                elif resp.status_code >= 400:
                    raise self._http_error(prov, url, resp)
                else:
                    return resp
            if attempt + 1 < attempts:
                self._backoff(attempt)
        raise _GaveUp(None, f"{prov.title} ({prov.source}): giving up on {url} after "
                            f"{attempts} attempts ({last})",
                      "the server or the connection is failing; try again later "
                      "(earlier downloads stay cached and partial files are resumed)")

    def get_json(self, prov: Provenance, url: str, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> Any:
        """GET a JSON document (retries as :meth:`download`; not cached by itself)."""
        resp = self._request(prov, url, params, headers, stream=False)
        try:
            return resp.json()
        except ValueError:
            ctype = resp.headers.get("Content-Type", "?")
            raise InputError(None, f"{prov.title} ({prov.source}): {resp.url} did not return "
                                   f"JSON (Content-Type {ctype})",
                             "the service may be down or changed its interface; check the URL "
                             "in a browser") from None

    def download(
        self,
        prov: Provenance,
        url: str,
        relpath: str | Path,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        expected_sha256: str | None = None,
        columns: list[str] | None = None,
        validate: Callable[[Path], list[str] | None] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> CacheEntry:
        """Download ``url`` to ``<cache>/<relpath>`` (resumable), or reuse the cached file.

        Parameters
        ----------
        prov : Provenance
            Source name, licence and attribution for the metadata record.
        url : str
            Address (redirects are followed).
        relpath : str or Path
            Target path relative to the cache root.
        params, headers : mapping, optional
            Query parameters and extra request headers.
        expected_sha256 : str, optional
            Known SHA-256 of the file; a different download is an error.
        columns : list of str, optional
            Schema to record (when known without reading the file).
        validate : callable, optional
            ``validate(part_path)`` runs on the complete download before it is renamed into
            place; it raises ``InputError`` for a bad file and may return the columns found.
        extra : mapping, optional
            More metadata fields.

        Returns
        -------
        CacheEntry
        """
        req = request_key(url, params)
        target = self.path(relpath)
        if not self.refresh:
            hit = self.cached(relpath, req)
            if hit is not None:
                if expected_sha256 and hit.sha256 != expected_sha256.lower():
                    raise InputError(
                        target, f"checksum mismatch for {prov.title}: expected {expected_sha256}, "
                                f"cached file has {hit.sha256}",
                        "the published file changed; check the source and update the expected "
                        "checksum, or delete the cached file and fetch again")
                log.info("%s: using cached %s", prov.source, target)
                return hit
        if self.offline:
            raise self.offline_missing(relpath, prov, url)
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + PART_SUFFIX)
        final_url, total = self._fetch_to_part(prov, url, params, headers, part)
        if expected_sha256:
            found = _io.sha256(part)
            if found != expected_sha256.lower():
                part.unlink(missing_ok=True)
                raise InputError(
                    target, f"checksum mismatch for {prov.title} from {final_url}: expected "
                            f"sha256 {expected_sha256}, downloaded file has {found}",
                    "the published file changed or was corrupted in transit; fetch again, and "
                    "if it persists update the expected checksum after checking the source")
        found_cols = validate(part) if validate is not None else None
        os.replace(part, target)
        info: dict[str, Any] = {"final_url": final_url, "params": dict(params or {})}
        if extra:
            info.update(extra)
        return self.record(relpath, prov, url=url, request=req,
                           columns=found_cols if found_cols is not None else columns, extra=info)

    def _fetch_to_part(self, prov: Provenance, url: str, params: Mapping[str, Any] | None,
                       headers: Mapping[str, str] | None, part: Path) -> tuple[str, int | None]:
        """Stream ``url`` into ``part``, resuming with Range; returns (final URL, total bytes).

        One budget of ``max_attempts`` HTTP requests covers 5xx/429 answers, connection
        errors and truncated bodies alike.
        """
        problem = ""
        for attempt in range(self.max_attempts):
            if attempt:
                self._backoff(attempt - 1)
            have = part.stat().st_size if part.exists() else 0
            hdrs = dict(headers or {})
            if have:
                hdrs["Range"] = f"bytes={have}-"
            try:
                resp = self._request(prov, url, params, hdrs, stream=True, attempts=1)
            except _GaveUp as exc:
                problem = exc.problem
                continue
            final_url = resp.url
            if resp.status_code == 416:  # nothing left to send: is the part already whole?
                _, total = _content_range(resp.headers.get("Content-Range", ""))
                resp.close()
                if total is not None and total == have:
                    return final_url, total
                part.unlink(missing_ok=True)
                problem = "server refused to resume the partial file (HTTP 416)"
                continue
            if resp.status_code == 206 and have:
                start, total = _content_range(resp.headers.get("Content-Range", ""))
                if start != have:
                    resp.close()
                    part.unlink(missing_ok=True)
                    problem = f"server resumed at byte {start}, expected {have}"
                    continue
                mode = "ab"
            else:
                if have:
                    log.info("%s: server ignored the Range request; downloading from the start",
                             prov.source)
                mode = "wb"
                cl = resp.headers.get("Content-Length", "")
                total = int(cl) if cl.isdigit() and "Content-Encoding" not in resp.headers \
                    else None
            dropped = ""
            # keep every byte that arrives; the size check below detects truncation (urllib3
            # would otherwise discard the last partial read when the body ends early)
            if hasattr(resp.raw, "enforce_content_length"):
                resp.raw.enforce_content_length = False
            try:
                with open(part, mode) as fh, self._progress(prov, total, have if mode == "ab"
                                                            else 0) as advance:
                    for chunk in resp.iter_content(chunk_size=1 << 16):
                        if chunk:
                            fh.write(chunk)
                            advance(len(chunk))
            except _NET_ERRORS as exc:
                dropped = f"connection dropped ({exc.__class__.__name__})"
            finally:
                resp.close()
            got = part.stat().st_size
            if total is not None and got > total:
                part.unlink(missing_ok=True)
                raise InputError(part, f"{prov.title}: received {got} bytes but the server "
                                       f"announced {total} from {final_url}",
                                 "fetch again; if it persists the server is misbehaving")
            if total is not None and got < total:
                problem = (f"truncated download: received {got} of {total} bytes "
                           f"(Content-Length) from {final_url}")
            elif total is None and dropped:
                problem = f"{dropped} after {got} bytes from {final_url}"
            else:
                return final_url, total
            log.warning("%s: %s (attempt %d/%d)", prov.source, problem, attempt + 1,
                        self.max_attempts)
        raise InputError(
            part, f"{prov.title} ({prov.source}): {problem} (gave up after {self.max_attempts} "
                  "attempts)",
            "run `ruimtekit fetch` again: the partial file is kept and resumed with an HTTP "
            "Range request")

    @contextlib.contextmanager
    def _progress(self, prov: Provenance, total: int | None,
                  done: int) -> Iterator[Callable[[int], None]]:
        if self.quiet:
            yield lambda n: None
            return
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TransferSpeedColumn,
        )

        with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                      TransferSpeedColumn(), transient=True) as bar:
            task = bar.add_task(prov.source, total=total, completed=done)
            yield lambda n: bar.advance(task, n)


class _GaveUp(InputError):
    """Retries exhausted on 5xx/429/connection errors."""


def _content_range(value: str) -> tuple[int, int | None]:
    """Parse ``bytes start-end/total`` → (start, total or None)."""
    m = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", value or "")
    if not m:
        return -1, None
    total = None if m.group(3) == "*" else int(m.group(3))
    return int(m.group(1)), total


def md5_file(path: str | Path) -> str:
    """Hex MD5 of a file (Geofabrik publishes ``.md5`` files next to each extract)."""
    h = hashlib.md5(usedforsecurity=False)  # integrity check against the publisher MD5
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()
