"""ui/prefs.py (no Dear PyGui): per-user settings in the platform's config folder, the app log in
its log folder, the new Settings values (scrub size, workers) clamped and saved."""
from __future__ import annotations

from pathlib import Path

import orjson

from aimms_fast.ui import prefs as P


def test_platform_folders(monkeypatch, tmp_path):
    monkeypatch.delenv("AIMMS_CONFIG_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    assert P.config_dir("linux") == tmp_path / ".config" / "aimms_fast"
    assert P.app_log_file("linux") == tmp_path / ".local" / "state" / "aimms_fast" / "app.log"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert P.config_dir("linux") == tmp_path / "xdg" / "aimms_fast"
    assert P.app_log_file("linux") == tmp_path / "state" / "aimms_fast" / "app.log"
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    assert P.config_dir("windows") == tmp_path / "Roaming" / "aimms_fast"
    assert P.app_log_file("windows") == tmp_path / "Local" / "aimms_fast" / "logs" / "app.log"
    assert P.config_dir("macos") == tmp_path / "Library" / "Application Support" / "aimms_fast"
    assert P.app_log_file("macos") == tmp_path / "Library" / "Logs" / "aimms_fast" / "app.log"
    monkeypatch.setenv("AIMMS_CONFIG_DIR", str(tmp_path / "cfg"))      # tests and portable installs
    assert P.config_dir() == tmp_path / "cfg" and P.Prefs.path() == tmp_path / "cfg" / "viewer.json"
    assert P.app_log_file() == tmp_path / "cfg" / "logs" / "app.log"


def test_new_settings_round_trip_and_clamp(monkeypatch, tmp_path):
    monkeypatch.setenv("AIMMS_CONFIG_DIR", str(tmp_path))
    p = P.Prefs.load()
    assert (p.scrub_size, p.workers, p.scrub_wh) == ("128x72", 0, (128, 72))
    p.scrub_size, p.workers = "256x144", 3
    p.save()
    saved = orjson.loads(Path(tmp_path / "viewer.json").read_bytes())
    assert saved["scrub_size"] == "256x144" and saved["workers"] == 3
    q = P.Prefs.load()
    assert (q.scrub_size, q.workers, q.scrub_wh) == ("256x144", 3, (256, 144))
    (tmp_path / "viewer.json").write_bytes(orjson.dumps({"scrub_size": "4000x9", "workers": -5, "theme": "pink"}))
    r = P.Prefs.load()
    assert (r.scrub_size, r.workers, r.theme) == ("128x72", 0, "dark")
    assert set(P.SCRUB_SIZES) == {"128x72", "192x108", "256x144"}
