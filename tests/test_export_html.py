"""The HTML review folder opened by a real browser: headless Chromium, driven over its DevTools
protocol on a pipe (--remote-debugging-pipe: no port, no network). A screenshot shows the grid, a
real mouse click plays the take (<video>.currentTime > 0), → moves to the next shot, and every
request the page made was for a file:// URL inside the folder."""
from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aimms_fast.errors import AimmsError
from aimms_fast.export.review_html import MARKER, browser_playable, render_review_html
from aimms_fast.export.timeline import Cut, CutClip
from tests.test_export_animatic import make_clip, make_still

COLOURS = [(220, 30, 30), (30, 200, 40), (30, 40, 220), (230, 220, 40)]


class Chromium:
    """A headless Chromium with a CDP session on one page, over --remote-debugging-pipe."""

    def __init__(self, profile: Path, size=(1280, 800)):
        exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if not exe:
            pytest.fail("chromium not installed (apt-get install chromium; tools/bootstrap.sh does it)")
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()

        def fds():   # the child reads commands on fd 3 and writes replies on fd 4
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)
        args = [exe, "--headless=new", "--remote-debugging-pipe", f"--user-data-dir={profile}",
                f"--window-size={size[0]},{size[1]}", "--no-first-run", "--no-default-browser-check",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--disable-gpu", "--mute-audio",
                "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")   # Chromium refuses to run as root with its sandbox
        self.proc = subprocess.Popen(args, preexec_fn=fds, pass_fds=(3, 4), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []
        self.session = None
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.call(f"{domain}.enable")

    def _read(self, timeout: float) -> dict:
        import select
        end = time.monotonic() + timeout
        while b"\0" not in self._buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, timeout: float = 30, **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read(timeout)
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method: str, timeout: float = 30) -> dict:
        for e in self.events:
            if e.get("method") == method:
                self.events.remove(e)
                return e
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = self._read(end - time.monotonic())
            if m.get("method") == method:
                return m
            self.events.append(m)
        raise TimeoutError(method)

    def js(self, expr: str):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"])
        return r["result"].get("value")

    def click(self, x: float, y: float) -> None:
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def key(self, key: str, code: int) -> None:
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key=key, code=key, windowsVirtualKeyCode=code)

    def screenshot(self) -> np.ndarray:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))

    def requested_urls(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except Exception:  # it may already be gone; the kill below is the real cleanup
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)


def board(i, kind, path, name, **kw) -> CutClip:
    d = dict(shot_id=i, shot_name=name, section="Act I" if i < 3 else "Act II", take_id=f"t{i}" if path else None,
             rel=None, path=path, kind=kind, duration_s=1.0, fps=24.0, width=320, height=180,
             has_audio=kind == "video", source_in_s=0.0,
             metadata={"prompt": f"prompt of {name}", "negative": "blurry", "seed": 42 + i, "model": "wan2.2",
                       "loras": ["film_grain"], "description": f"what happens in {name}", "dialogue": "",
                       "notes": "client likes this one" if i == 1 else ""},
             order_number=i, take_number=1 if path else None, file_duration_s=2.0 if kind == "video" else None,
             reason=None if path else "no starred video take")
    d.update(kw)
    return CutClip(**d)


def make_review_cut(tmp_path: Path) -> Cut:
    m = tmp_path / "media"
    m.mkdir()
    clips = [board(1, "video", make_clip(m / "a.mp4", COLOURS[0], seconds=2.0, tone=440), "Ωμέγα opening"),
             board(2, "image", make_still(m / "b.png", COLOURS[1], size=(320, 180)), "Still board"),
             # A Matroska file: not a browser container, so the page gets a proxy.
             board(3, "video", make_clip(m / "c.mkv", COLOURS[2], seconds=2.0), "MKV take"),
             board(4, "gap", None, "Nothing yet")]
    return Cut(project_name="Review – Проект", fps=24.0, clips=clips, sections=[("Act I", 0.0)], total_s=4.0)


def test_folder_contents(tmp_path):
    cut = make_review_cut(tmp_path)
    out = tmp_path / "review"
    r = render_review_html(cut, out)
    assert (r.boards, r.copied, r.proxies) == (4, 2, 1)
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == [MARKER, "index.html", "media/001_Ωμέγα_opening.mp4", "media/002_Still_board.png",
                     "media/003_MKV_take.mp4", "posters/001_Ωμέγα_opening.jpg", "posters/002_Still_board.jpg",
                     "posters/003_MKV_take.jpg"]
    assert browser_playable(out / "media/003_MKV_take.mp4", 1280) == (True, "")
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page and "<link" not in page
    # Re-export replaces our own folder; a foreign non-empty folder is refused.
    render_review_html(cut, out, proxies="never")
    assert not (out / "media/003_MKV_take.mp4").exists() and (out / "media/003_MKV_take.mkv").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(AimmsError, match="not empty"):
        render_review_html(cut, other)
    assert [p.name for p in other.iterdir()] == ["keep.txt"]
    stop = threading.Event()
    stop.set()
    with pytest.raises(AimmsError, match="cancelled"):
        render_review_html(cut, tmp_path / "c", cancel=stop)
    assert not (tmp_path / "c").exists() and not (tmp_path / "c.partial").exists()


@pytest.mark.slow
def test_chromium_grid_click_plays_and_no_network(tmp_path):
    cut = make_review_cut(tmp_path)
    out = tmp_path / "review"
    render_review_html(cut, out)
    b = Chromium(tmp_path / "profile")
    try:
        b.call("Page.navigate", url=(out / "index.html").as_uri())
        b.wait_event("Page.loadEventFired")
        b.js("Promise.all([...document.images].map(i => i.complete ? 1 : new Promise(r => i.onload = i.onerror = r)))")
        shot = b.screenshot()
        Image.fromarray(shot).save(tmp_path / "grid.png")
        cards = b.js("[...document.querySelectorAll('.card')].map(c => {const r = c.querySelector('.pic')"
                     ".getBoundingClientRect(); return [r.x, r.y, r.width, r.height]})")
        assert len(cards) == 4
        for (x, y, w, h), rgb in zip(cards[:3], COLOURS):     # each poster in its card, in its colour
            px = shot[int(y + h / 2), int(x + w / 2)]
            assert all(abs(int(a) - int(c)) < 30 for a, c in zip(px, rgb)), (px, rgb)
        assert "Ωμέγα opening" in b.js("document.body.innerText")
        x, y, w, h = cards[0]
        b.click(x + w / 2, y + h / 2)
        t = 0.0
        end = time.monotonic() + 15
        while time.monotonic() < end and t <= 0:
            time.sleep(0.2)
            t = b.js("(document.querySelector('#stage video') || {currentTime: -1}).currentTime")
        assert t > 0, "the take did not play after a click"
        assert b.js("document.querySelector('#info h2').textContent") == "1. Ωμέγα opening"
        assert "client likes this one" in b.js("document.getElementById('info').innerText")
        Image.fromarray(b.screenshot()).save(tmp_path / "playing.png")
        b.key("ArrowRight", 39)
        assert b.js("document.querySelector('#info h2').textContent") == "2. Still board"
        b.key("ArrowRight", 39)
        assert b.js("document.querySelector('#info h2').textContent") == "3. MKV take"
        t = 0.0
        end = time.monotonic() + 15
        while time.monotonic() < end and t <= 0:
            time.sleep(0.2)
            t = b.js("(document.querySelector('#stage video') || {currentTime: -1}).currentTime")
        assert t > 0, "the proxy did not play"
        b.key("ArrowLeft", 37)
        assert b.js("document.querySelector('#info h2').textContent") == "2. Still board"
        urls = b.requested_urls()
        assert urls, "no requests recorded"
        root = out.resolve().as_uri()
        bad = [u for u in urls if not (u.startswith(root + "/") or u.startswith("data:"))]
        assert bad == [], bad       # data: URLs are Chromium's own media-control icons
        errors = [e["params"] for e in b.events if e.get("method") == "Runtime.exceptionThrown"
                  or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
        assert errors == []         # no script error, no blocked (CSP) or failed load
    finally:
        b.close()


def test_project_review_through_formats(tmp_path):
    from aimms_fast import export as ex
    from aimms_fast.export.timeline import build_cut
    from aimms_fast.project import Project
    from tests.export_fixture import SHOTS, build_project
    from aimms_fast.ops.takes import set_notes
    built = build_project(tmp_path / "proj")
    with Project.open(built.root) as p:
        set_notes(p, built.video_takes["WALK"][0], notes="client: keep the walk", rating=4)
        ex.load()
        cut = build_cut(p)
        r = ex.FORMATS["html"](p, cut, tmp_path / "review", ex.ExportOptions())
    assert r.format == "html" and r.clips == len(SHOTS)
    page = (r.path / "index.html").read_text(encoding="utf-8")
    for name, *_ in SHOTS:
        assert f'"name": "{name}"' in page
    # Four starred videos (EMPTY has none): all H.264 MP4, copied as they are.
    assert len(list((r.path / "media").glob("*.mp4"))) == 4 and len(list((r.path / "posters").glob("*.jpg"))) == 4
    assert any(f.name == "index.html" for f in r.files)
    assert '"notes": "client: keep the walk", "rating": "\u2605\u2605\u2605\u2605"' in page
