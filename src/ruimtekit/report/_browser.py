"""Headless Chromium over the DevTools protocol (``--remote-debugging-pipe``), no dependencies.

Used by the browser tests (clicking through the web maps) and by ``make screenshots``
(PNG screenshots of every demo map for the docs). Chromium reads protocol messages
(JSON, NUL-terminated) on file descriptor 3 and writes replies and events on descriptor 4;
:class:`Chromium` starts it with those pipes, opens one page and offers
:meth:`Chromium.goto`, :meth:`Chromium.eval`, :meth:`Chromium.click` and
:meth:`Chromium.screenshot`.

No internet is used: every host except ``127.0.0.1``/``localhost`` resolves to "not found"
(``--host-resolver-rules``), so base-map tiles fail at once, as they do on an offline
machine, and the maps' offline fallback is what the pages show.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["Chromium", "BrowserError", "find_chromium"]

WINDOW = (1280, 860)
"""Default viewport (CSS pixels)."""

TIMEOUT_S = 60.0
"""Longest wait for one protocol reply or page load (seconds)."""

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost")


class BrowserError(RuntimeError):
    """Chromium failed, closed the pipe or a page script threw."""


def find_chromium() -> str | None:
    """Path of a Chromium executable (``chromium``, ``chromium-browser``, ``google-chrome``) or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        exe = shutil.which(name)
        if exe:
            return exe
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


class Chromium:
    """One headless Chromium with one page, driven through the DevTools pipe.

    Parameters
    ----------
    exe : str, optional
        Chromium executable (default: :func:`find_chromium`).
    size : tuple of int
        Viewport width and height in CSS pixels.

    Use as a context manager; the browser and its temporary profile are removed on exit.
    """

    def __init__(self, exe: str | None = None, size: tuple[int, int] = WINDOW) -> None:
        exe = exe or find_chromium()
        if not exe:
            raise BrowserError("no Chromium executable found (install Debian's `chromium`)")
        self._profile = tempfile.TemporaryDirectory(prefix="rk-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire() -> None:  # in the child: the protocol pipes become fds 3 and 4
            a, b = os.dup(to_child_r), os.dup(from_child_w)  # never clobber one with the other
            os.dup2(a, 3)  # dup2 makes 3 and 4 inheritable; every other fd is close-on-exec
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [exe, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self._profile.name}",
             f"--window-size={size[0]},{size[1]}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire, close_fds=False,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None
        try:
            target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
            self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                     session=False)["sessionId"]
            self.send("Page.enable")
            self.send("Runtime.enable")
            self.send("Emulation.setDeviceMetricsOverride",
                      {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False})
        except Exception:
            self.close()
            raise

    # -------------------------------------------------------------- protocol
    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise BrowserError(f"Chromium closed the DevTools pipe (exit code {self.proc.poll()})")
                self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: bool = True,
             timeout: float = TIMEOUT_S) -> dict[str, Any]:
        """Send one protocol command and return its ``result`` (events are kept in ``events``)."""
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, timeout: float = TIMEOUT_S) -> dict[str, Any]:
        """Wait for (and consume) the next protocol event named ``method``."""
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read(deadline))

    # ----------------------------------------------------------------- pages
    def goto(self, url: str, settle_ms: int = 300) -> None:
        """Open ``url`` and wait for its load event (plus ``settle_ms`` for timers)."""
        self.events = [e for e in self.events if e.get("method") != "Page.loadEventFired"]
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")
        if settle_ms:
            self.eval(f"new Promise(function(r){{setTimeout(r, {int(settle_ms)});}})")

    def eval(self, expression: str) -> Any:
        """Evaluate JavaScript in the page (promises are awaited) and return the value."""
        r = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                           "returnByValue": True})
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            text = (d.get("exception") or {}).get("description") or d.get("text")
            raise BrowserError(f"page script failed: {text}")
        return (r.get("result") or {}).get("value")

    def click(self, selector: str) -> None:
        """Click the centre of the first element matching the CSS ``selector`` with the mouse."""
        box = self.eval(
            f"(function(){{var e=document.querySelector({json.dumps(selector)});if(!e)return null;"
            # scroll only scrollable panels (a measure list), never the map container
            "for(var p=e.parentElement;p;p=p.parentElement){var o=getComputedStyle(p).overflowY;"
            "if((o==='auto'||o==='scroll')&&p.scrollHeight>p.clientHeight){var a=e.getBoundingClientRect(),"
            "b=p.getBoundingClientRect();if(a.top<b.top||a.bottom>b.bottom)p.scrollTop+=a.top-b.top-b.height/2;}}"
            "var r=e.getBoundingClientRect();"
            "return [r.left+r.width/2, r.top+r.height/2, r.width, r.height];})()")
        if not box:
            raise BrowserError(f"no element matches {selector!r}")
        if box[2] <= 0 or box[3] <= 0:
            raise BrowserError(f"element {selector!r} is not visible")
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": box[0], "y": box[1]})
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                                                   "button": "left", "clickCount": 1})

    def screenshot(self, path: str | Path | None = None) -> bytes:
        """PNG of the viewport (written to ``path`` when given)."""
        png = base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])
        if path is not None:
            Path(path).write_bytes(png)
        return png

    # ------------------------------------------------------------- lifetime
    def close(self) -> None:
        """Stop Chromium and remove its profile."""
        if self.proc.poll() is None:
            try:
                if self.session is not None:
                    self.send("Browser.close", session=False, timeout=5)
            except (BrowserError, OSError):
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self._profile.cleanup()

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------ web-map probes
MAP_STATE_JS = r"""(function(){
  function vis(e){ return !!e && e.style.display !== 'none' && e.offsetParent !== null; }
  var ms = {}; document.querySelectorAll('path.rk-m').forEach(function(p){
    p.classList.forEach(function(c){ var m = /^rk-m-(\d+)$/.exec(c); if (m) ms[m[1]] = (ms[m[1]] || 0) + 1; }); });
  var radios = Array.prototype.map.call(document.querySelectorAll('.rk-measures label'), function(l){
    return {label: l.textContent.trim(), checked: l.querySelector('input').checked}; });
  var legend = Array.prototype.filter.call(document.querySelectorAll('.rk-leg'), vis).map(function(e){
    var h = e.querySelector('h4'); return h ? h.textContent : e.textContent.trim(); });
  var notes = Array.prototype.filter.call(document.querySelectorAll('.rk-note'), function(e){
    return e.style.display !== 'none'; }).map(function(e){ return e.title; });
  var st = document.getElementById('rk-status');
  var title = document.getElementById('rk-title');
  var tr = title ? title.getBoundingClientRect() : null, covered = [];
  document.querySelectorAll('.leaflet-control').forEach(function(c){
    var r = c.getBoundingClientRect();
    if (tr && r.width && r.height && r.left < tr.right && r.right > tr.left && r.top < tr.bottom && r.bottom > tr.top)
      covered.push(c.className); });
  return {measures: ms, radios: radios, legend: legend, notes: notes,
          status: st && st.style.display !== 'none' ? st.textContent : '',
          title: title ? title.textContent : null, titleCoveredBy: covered,
          candidates: document.querySelectorAll('path.rk-cand').length,
          stations: document.querySelectorAll('.rk-station').length,
          listRows: document.querySelectorAll('#rk-list tbody tr').length,
          popup: (document.querySelector('.leaflet-popup-content') || {}).textContent || null};
})()"""
"""JavaScript returning the visible state of a ruimtekit web map (measures drawn, radio
buttons, visible legend titles and notes, base-map status, whether a control covers the
title, candidate/station/list counts, the open popup's text)."""


def map_state(browser: Chromium) -> dict[str, Any]:
    """The state of the open web map (:data:`MAP_STATE_JS`)."""
    return browser.eval(MAP_STATE_JS)


def script_errors(browser: Chromium) -> list[str]:
    """Uncaught JavaScript exceptions reported since the last call (clears them)."""
    errs = [e["params"]["exceptionDetails"] for e in browser.events
            if e.get("method") == "Runtime.exceptionThrown"]
    browser.events = [e for e in browser.events if e.get("method") != "Runtime.exceptionThrown"]
    return [((d.get("exception") or {}).get("description") or d.get("text", "")) for d in errs]


def switch_measures(browser: Chromium) -> list[dict[str, Any]]:
    """Click every measure radio button in turn (with the mouse) and check the map.

    Returns one record per click (``index``, ``label``, ``measures``, ``legend``); raises
    :class:`BrowserError` naming the measure when not exactly that one measure layer is
    drawn, its radio button is not the only one checked or the legend does not show it.
    """
    n = len(map_state(browser)["radios"])
    out = []
    for i in [*range(1, n), 0] if n > 1 else []:
        browser.click(f".rk-measures label:nth-of-type({i + 1}) input")
        st = map_state(browser)
        label = st["radios"][i]["label"]
        problems = []
        if list(st["measures"]) != [str(i)]:
            problems.append(f"measure layers drawn: {sorted(st['measures'])}, expected only [{i}]")
        if [r["checked"] for r in st["radios"]] != [j == i for j in range(n)]:
            problems.append(f"radio buttons checked: {[r['checked'] for r in st['radios']]}")
        if not st["legend"] or st["legend"][0].split(" [")[0] != label.split(" [")[0]:
            problems.append(f"legend shows {st['legend'][:1]}, expected {label!r}")
        if problems:
            raise BrowserError(f"after clicking measure {i} ({label!r}): " + "; ".join(problems))
        out.append({"index": i, "label": label, "measures": st["measures"], "legend": st["legend"]})
    return out


SCREENSHOT_SIZE = (1100, 720)
"""Viewport of the docs screenshots (CSS pixels)."""

SCREENSHOT_COLORS = 96
"""Palette size the screenshots are quantized to (keeps each PNG ≈ 100–250 kB)."""


def screenshots(maps_dir: str | Path, out_dir: str | Path, exe: str | None = None) -> list[Path]:
    """Screenshot every web map of a maps folder (``maps.json``) into ``out_dir``, checking each.

    Every map is opened from disk (``file://``, offline: the base map falls back), every
    measure is clicked once (:func:`switch_measures`, which raises when a click leaves
    more or less than one measure layer or a wrong legend), then the first measure is
    shown again and the page is captured and quantized to a small palette PNG.

    Parameters
    ----------
    maps_dir : str or Path
        ``maps/<study>`` with ``maps.json`` (written by ``ruimtekit run`` / ``ruimtekit map``).
    out_dir : str or Path
        Folder for ``<map>.png`` (created).
    exe : str, optional
        Chromium executable.

    Returns
    -------
    list of Path
        The PNG files, in manifest order.
    """
    import io

    from PIL import Image

    maps_dir, out_dir = Path(maps_dir).resolve(), Path(out_dir)
    manifest = json.loads((maps_dir / "maps.json").read_text(encoding="utf-8"))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with Chromium(exe, size=SCREENSHOT_SIZE) as c:
        for entry in manifest:
            page = maps_dir / entry["file"]
            script_errors(c)
            c.goto(page.as_uri(), settle_ms=1200)
            clicks = switch_measures(c)
            errors = script_errors(c)
            if errors:
                raise BrowserError(f"{page.name}: script errors {errors}")
            if clicks:
                c.eval("new Promise(function(r){setTimeout(r, 400);})")
            png = c.screenshot()
            img = Image.open(io.BytesIO(png)).convert("RGB").quantize(SCREENSHOT_COLORS, dither=Image.Dither.NONE)
            target = out_dir / f"{page.stem}.png"
            img.save(target, optimize=True)
            written.append(target)
            print(f"{target} ({target.stat().st_size / 1e3:.0f} kB; {len(clicks)} measure switches checked)")
    return written


if __name__ == "__main__":  # python -m ruimtekit.report._browser MAPS_DIR OUT_DIR  (make screenshots)
    import sys

    if len(sys.argv) != 3:
        sys.exit("usage: python -m ruimtekit.report._browser MAPS_DIR OUT_DIR")
    screenshots(sys.argv[1], sys.argv[2])
