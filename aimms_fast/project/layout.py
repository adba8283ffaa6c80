"""The AIMMS 1.0 project folder: every path in one place."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ASSET_KINDS = ("characters", "locations", "other")


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def config(self) -> Path: return self.root / "project_config.json"
    @property
    def data(self) -> Path: return self.root / "data"
    @property
    def db(self) -> Path: return self.data / "shots.db"
    @property
    def mapping(self) -> Path: return self.data / "shot_name_mapping.json"
    @property
    def csv(self) -> Path: return self.data / "csv"
    @property
    def backup(self) -> Path: return self.data / "backup"
    @property
    def replaced(self) -> Path: return self.backup / "replaced"
    @property
    def saves(self) -> Path: return self.data / "saves"
    @property
    def trash(self) -> Path:
        # Inside data/ so AIMMS's own orphan scan of media/ never sees trashed files.
        return self.data / "trash"
    @property
    def media(self) -> Path: return self.root / "media"
    @property
    def logs(self) -> Path: return self.root / "logs"
    @property
    def log_file(self) -> Path: return self.logs / "project_log.log"
    @property
    def cache(self) -> Path:
        # Regenerable (atlas pages, cache index): safe to delete, rebuilt on demand.
        return self.root / ".aimms_fast_cache"
    @property
    def lock(self) -> Path: return self.data / ".aimms_fast.lock"

    @property
    def legacy_assets(self) -> Path:
        """Older AIMMS projects keep assets in `assets/` at the root."""
        return self.root / "assets"

    def shot_dir(self, shot_id: int) -> Path:
        return self.media / str(int(shot_id))

    def asset_dir(self, kind: str) -> Path:
        """Where assets of `kind` live: media/<kind>/, or assets/<kind>/ in the older layout."""
        new = self.media / kind
        old = self.legacy_assets / kind
        if not new.exists() and old.exists():
            return old
        return new

    def rel(self, path: Path) -> str:
        """Project-relative path with forward slashes, as AIMMS stores `file_path`."""
        return PurePosixPath(Path(path).resolve().relative_to(self.root.resolve())).as_posix()

    def abs(self, rel_path: str) -> Path:
        """Absolute path of a stored `file_path` (tolerates backslashes written on Windows)."""
        return self.root / Path(*PurePosixPath(str(rel_path).replace("\\", "/")).parts)

    def required_dirs(self) -> list[Path]:
        return [self.data, self.csv, self.backup, self.saves, self.media, self.logs,
                *(self.media / k for k in ASSET_KINDS)]

    def looks_like_project(self) -> bool:
        return self.db.exists() or self.config.exists()
