"""Viewer preferences (per user, not per project): font scale, theme, card size, texture budget,
hover-scrub frame size, thumbnail workers, recent projects, the file manager for "Open folder", the
performance overlay. Stored as JSON in the platform's per-user config folder (config_dir: XDG on
Linux, %APPDATA% on Windows, ~/Library/Application Support on macOS); the app log goes to the
platform's per-user log folder (app_log_file). A broken file falls back to defaults so the viewer
always starts. No Dear PyGui here (the CLI and tests read it too)."""
from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import orjson

THEMES = ("dark", "light")
MAX_RECENT = 10
APP = "aimms_fast"
# Hover-scrub (filmstrip) frame sizes offered in Settings; the thumbnail cache (cache/, issue 9
# item 6) builds its strips at prefs.scrub_size. 128x72 was the only size before and looks soft on
# large cards.
SCRUB_SIZES = ("128x72", "192x108", "256x144")
MAX_WORKERS = 32


def _platform() -> str:
    return "windows" if sys.platform.startswith("win") else "macos" if sys.platform == "darwin" else "linux"


def config_dir(platform: str | None = None) -> Path:
    """$AIMMS_CONFIG_DIR, else the platform's per-user config folder: Linux $XDG_CONFIG_HOME/aimms_fast
    (~/.config/aimms_fast), Windows %APPDATA%\\aimms_fast, macOS ~/Library/Application Support/aimms_fast."""
    env = os.environ.get("AIMMS_CONFIG_DIR")
    if env:
        return Path(env)
    platform = platform or _platform()
    if platform == "windows":
        base = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
    elif platform == "macos":
        base = str(Path.home() / "Library" / "Application Support")
    else:
        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP


def app_log_file(platform: str | None = None) -> Path:
    """The app's own log (what happens with no project open, start-up, crashes): beside the prefs
    when $AIMMS_CONFIG_DIR is set, else the platform's per-user log folder: Linux
    $XDG_STATE_HOME/aimms_fast (~/.local/state/aimms_fast), Windows %LOCALAPPDATA%\\aimms_fast\\logs,
    macOS ~/Library/Logs/aimms_fast."""
    if os.environ.get("AIMMS_CONFIG_DIR"):
        return config_dir() / "logs" / "app.log"
    platform = platform or _platform()
    if platform == "windows":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / APP / "logs"
    elif platform == "macos":
        base = Path.home() / "Library" / "Logs" / APP
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / APP
    return base / "app.log"


@dataclass
class Prefs:
    font_scale: float = 1.0
    theme: str = "dark"
    card_width: int = 240                 # storyboard card width in pixels
    texture_budget_mb: int = 160          # resident thumbnail textures (float32 CPU copy + GPU)
    recent: list[str] = field(default_factory=list)
    shot_columns: list[str] = field(default_factory=lambda: [
        "order_number", "shot_name", "section", "description", "location", "time_of_day"])
    search_columns: list[str] = field(default_factory=lambda: [
        "shot_name", "section", "description", "image_prompt", "video_prompt", "dialogue", "location"])
    file_manager: str = ""                # "Open folder" fallback after xdg-open and gio (e.g. "thunar")
    show_perf_overlay: bool = False       # texture and frame-time figures in the status bar
    scrub_size: str = "128x72"            # hover-scrub frame size (SCRUB_SIZES), read by the cache
    workers: int = 0                      # thumbnail worker processes; 0 = one per CPU core but one

    # -- persistence ---------------------------------------------------------------------------
    @classmethod
    def path(cls) -> Path:
        return config_dir() / "viewer.json"

    @classmethod
    def load(cls) -> "Prefs":
        p = cls.path()
        try:
            data = orjson.loads(p.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return cls()
        known = {f.name for f in fields(cls)}
        prefs = cls(**{k: v for k, v in data.items() if k in known}) if isinstance(data, dict) else cls()
        prefs.clamp()
        return prefs

    def save(self) -> None:
        p = self.path()
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
            tmp.write_bytes(orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2))
            os.replace(tmp, p)
        except OSError:
            pass  # preferences are a convenience; a read-only home must not break the viewer

    def clamp(self) -> None:
        self.font_scale = float(min(2.5, max(0.6, self.font_scale or 1.0)))
        if self.theme not in THEMES:
            self.theme = "dark"
        self.card_width = int(min(520, max(120, self.card_width or 240)))
        self.texture_budget_mb = int(min(4096, max(16, self.texture_budget_mb or 160)))
        self.recent = [str(r) for r in (self.recent or []) if isinstance(r, str)][:MAX_RECENT]
        self.file_manager = self.file_manager.strip() if isinstance(self.file_manager, str) else ""
        self.show_perf_overlay = bool(self.show_perf_overlay)
        if self.scrub_size not in SCRUB_SIZES:
            self.scrub_size = SCRUB_SIZES[0]
        try:
            self.workers = int(min(MAX_WORKERS, max(0, int(self.workers or 0))))
        except (TypeError, ValueError):
            self.workers = 0

    @property
    def scrub_wh(self) -> tuple[int, int]:
        """scrub_size as (width, height) pixels."""
        w, h = self.scrub_size.split("x")
        return int(w), int(h)

    # -- recent projects ---------------------------------------------------------------------
    def add_recent(self, path: Path) -> None:
        s = str(Path(path).expanduser().resolve())
        self.recent = [s] + [r for r in self.recent if r != s]
        self.recent = self.recent[:MAX_RECENT]

    @property
    def last_project(self) -> Path | None:
        for r in self.recent:
            if (Path(r) / "data" / "shots.db").exists():
                return Path(r)
        return None
