"""Viewer preferences (per user, not per project): font scale, theme, card size, texture budget,
recent projects, the file manager for "Open folder", the performance overlay. Stored as JSON in
the user's config folder; a broken file falls back to defaults so the viewer always starts. No
Dear PyGui here (the CLI and tests read it too)."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import orjson

THEMES = ("dark", "light")
MAX_RECENT = 10


def config_dir() -> Path:
    """$AIMMS_CONFIG_DIR, else $XDG_CONFIG_HOME/aimms_fast, else ~/.config/aimms_fast."""
    env = os.environ.get("AIMMS_CONFIG_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "aimms_fast"


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
