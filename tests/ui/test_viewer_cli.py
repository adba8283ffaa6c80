"""The viewer's command line and documents (run in the UI suite: they start viewer processes)."""
from __future__ import annotations

import os
import subprocess
import sys
from tests.ui.conftest import ROOT, build_project

AIMMS = [sys.executable, "-m", "aimms_fast"]


def _run(args, env=None, timeout=60):
    return subprocess.run(AIMMS + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_open_without_display_fails_with_a_clear_message(tmp_path):
    proj = build_project(tmp_path / "p", [{"name": "A", "images": [(10, 20, 30)]}])
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["AIMMS_CONFIG_DIR"] = str(tmp_path / "cfg")
    r = _run([str(proj)], env=env)                       # `aimms PATH` is `aimms open PATH`
    assert r.returncode == 1, r.stderr
    assert "no display" in r.stderr and "xvfb-run" in r.stderr
    assert "Traceback" not in r.stderr


def test_open_rejects_a_folder_that_is_not_a_project(tmp_path):
    env = dict(os.environ, AIMMS_CONFIG_DIR=str(tmp_path / "cfg"))
    r = _run(["open", str(tmp_path)], env=env)
    assert r.returncode == 1 and "not an AIMMS project" in r.stderr
    r = _run(["open", str(tmp_path / "nope")], env=env)
    assert r.returncode == 1 and "no such folder" in r.stderr


def test_keyboard_doc_matches_the_keyboard_map():
    from aimms_fast.ui.keys import SHORTCUTS, markdown
    doc = (ROOT / "docs" / "keyboard.md").read_text(encoding="utf-8")
    assert doc == markdown(), "docs/keyboard.md is out of date: regenerate it from aimms_fast.ui.keys.markdown()"
    chords = [(s.context, s.chord) for s in SHORTCUTS]
    assert len(chords) == len(set(chords)), "a chord is bound twice in one context"
    assert all(f"Ctrl+{i}" in doc for i in range(1, 9))


def test_user_guide_mentions_every_page():
    from aimms_fast.ui.keys import PAGE_TITLES
    guide = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    for title in PAGE_TITLES.values():
        assert f"**{title}**" in guide


def test_prefs_survive_a_broken_file_and_clamp(tmp_path, monkeypatch):
    from aimms_fast.ui.prefs import Prefs
    monkeypatch.setenv("AIMMS_CONFIG_DIR", str(tmp_path))
    (tmp_path / "viewer.json").write_text("{not json")
    p = Prefs.load()
    assert p.theme == "dark" and p.card_width == 240
    p.card_width, p.theme, p.font_scale = 9999, "neon", 0.1
    p.add_recent(tmp_path / "a")
    p.add_recent(tmp_path / "b")
    p.add_recent(tmp_path / "a")
    p.clamp()
    p.save()
    q = Prefs.load()
    assert (q.card_width, q.theme, q.font_scale) == (520, "dark", 0.6)
    assert q.recent == [str((tmp_path / "a").resolve()), str((tmp_path / "b").resolve())]
