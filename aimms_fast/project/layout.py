"""The AIMMS 1.0 project folder: every path in one place, and the one containment rule.

Containment (issue 14): every path the database stores (takes/assets file_path, fast_trash
from/to, fast_pending_files, history moves and stashes, workflow PNG companions) becomes a file
system path only through `Layout.abs` (or `read_path`), and every file system path becomes a
stored path only through `Layout.rel`. Both refuse, with errors.OutsideProject, a path that leaves
the project: `..`, absolute, drive-letter or UNC, NUL or other non-text values, a first folder
other than media/, data/ or assets/, and a path whose folders resolve (through symlinks) outside
those three real folders of the project. `abs` does not follow the last component, so a move,
delete or trash acts on a symlink itself, never on its target; `read_path` also resolves the last
component and refuses a link whose target is outside. `link_target` tells where a link inside the
project points (a link to another take's file is detected, not followed).
Cost: one lstat per folder below the root (2 for media/<shot>/file), realpath only where a
component is a symlink. Thread: any (pure file system reads).
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from aimms_fast.errors import OutsideProject

ASSET_KINDS = ("characters", "locations", "other")
# The folders a stored path may live in: media/ (takes, assets), data/ (trash, backups, stashes)
# and the older layout's assets/.
ALLOWED_TOPS = ("media", "data", "assets")
# Where the files of take and asset records live: a take whose path names data/shots.db must not
# be able to trash the database.
RECORD_TOPS = ("media", "assets")
_DRIVE = re.compile(r"^[A-Za-z]:")


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

    # -- containment ---------------------------------------------------------------------------
    def rel(self, path: str | os.PathLike) -> str:
        """Project-relative path with forward slashes, as AIMMS stores `file_path`. The folders of
        `path` are resolved (symlinks included), the last component is not (a link keeps its own
        name). Raises OutsideProject when the result is not inside media/, data/ or assets/."""
        p = os.path.abspath(os.fspath(path))
        parent, name = os.path.split(p)
        real_parent = os.path.realpath(parent)
        real_root = self._real_root()
        inside = _under(real_parent, real_root)
        rel = "/".join([*inside, name] if name else inside) if inside is not None else None
        if rel is None or not rel or rel.split("/")[0] not in ALLOWED_TOPS:
            raise OutsideProject(str(path), "not inside this project's media/, data/ or assets/")
        return rel

    def abs(self, rel_path, *, follow: bool = False, within: tuple[str, ...] = ALLOWED_TOPS) -> Path:
        """File system path of a stored path (backslashes written on Windows are accepted).

        Lexical checks, then the folders above the last component are resolved: the result is
        inside the project's real media/, data/ or assets/ or OutsideProject is raised. The last
        component is NOT followed, so moves, deletes and trash act on a symlink itself; use
        `read_path` (follow=True) to open a file, which also refuses a link leading outside.
        `within` narrows the first folder (RECORD_TOPS for take/asset files; ("data/trash",) style
        prefixes of several components are allowed)."""
        parts = self.check_rel(rel_path, within=within)
        path = self.root.joinpath(*parts)
        self._check_folders(rel_path, parts, within)
        if follow:
            self._check_target(rel_path, path, within)
        return path

    def read_path(self, rel_path, *, within: tuple[str, ...] = ALLOWED_TOPS) -> Path:
        """`abs(rel_path, follow=True)`: for code that reads the file's bytes (thumbnails, export,
        archive, probing). Refuses a final symlink whose target is outside the project."""
        return self.abs(rel_path, follow=True, within=within)

    def record_path(self, rel_path, *, follow: bool = False) -> Path:
        """`abs` for a take's or asset's file_path: only media/ and the older assets/."""
        return self.abs(rel_path, follow=follow, within=RECORD_TOPS)

    def trash_path(self, rel_in_trash) -> Path:
        """A fast_trash `to` entry (relative to data/trash/) as a file system path, checked."""
        return self.abs(self.trash_rel(rel_in_trash), within=("data/trash",))

    def trash_rel(self, rel_in_trash) -> str:
        """data/trash/<rel_in_trash> as a stored path. An absolute or drive path is returned as it
        is, so the check that follows refuses it by its own reason rather than nesting it."""
        if not isinstance(rel_in_trash, str):
            self.check_rel(rel_in_trash)  # raises with the type's reason
        text = rel_in_trash.replace("\\", "/")
        if text.startswith("/") or _DRIVE.match(text):
            return rel_in_trash
        return "data/trash/" + text

    def check_rel(self, rel_path, *, within: tuple[str, ...] = ALLOWED_TOPS) -> tuple[str, ...]:
        """The lexical rule alone (no file system access): the path's components, normalised, or
        OutsideProject naming the reason."""
        if rel_path is None:
            raise OutsideProject(rel_path, "no path recorded")
        if isinstance(rel_path, (bytes, bytearray, memoryview)):
            raise OutsideProject(rel_path, "stored as binary data, not text")
        if isinstance(rel_path, PurePosixPath):
            rel_path = rel_path.as_posix()
        if not isinstance(rel_path, str):
            raise OutsideProject(rel_path, f"stored as {type(rel_path).__name__}, not text")
        if "\x00" in rel_path:
            raise OutsideProject(rel_path, "contains a NUL byte")
        text = rel_path.replace("\\", "/")
        if not text.strip():
            raise OutsideProject(rel_path, "empty path")
        if text.startswith("//"):
            raise OutsideProject(rel_path, "a network (UNC) path")
        if _DRIVE.match(text):
            raise OutsideProject(rel_path, "an absolute Windows path (drive letter)")
        if text.startswith("/") or text.startswith("~"):
            reason = "an absolute path"
            if "/media/" in text or "/data/" in text:
                reason += " (into another project folder)"
            raise OutsideProject(rel_path, reason)
        parts = tuple(p for p in text.split("/") if p not in ("", "."))
        if ".." in parts:
            raise OutsideProject(rel_path, "climbs out with '..'")
        if not parts or parts[0] not in ALLOWED_TOPS:
            raise OutsideProject(rel_path, "not under media/, data/ or assets/")
        if within is not ALLOWED_TOPS and not any(
                parts[:len(w.split("/"))] == tuple(w.split("/")) for w in within):
            raise OutsideProject(rel_path, f"not under {' or '.join(w + '/' for w in within)}")
        return parts

    def is_inside(self, rel_path, *, follow: bool = False, within: tuple[str, ...] = ALLOWED_TOPS) -> bool:
        try:
            self.abs(rel_path, follow=follow, within=within)
        except OutsideProject:
            return False
        return True

    def outside_reason(self, rel_path, *, follow: bool = True,
                       within: tuple[str, ...] = ALLOWED_TOPS) -> str | None:
        """Why `rel_path` is refused (None when it is inside); for listings such as `aimms check`."""
        try:
            self.abs(rel_path, follow=follow, within=within)
        except OutsideProject as e:
            return e.reason
        return None

    def link_target(self, rel_path) -> str | None:
        """When the stored path is itself a symlink: the project-relative path of what it points at
        (a link to another take's file is then detected, not followed). None when it is no link.
        Raises OutsideProject when the path or the link target is outside."""
        path = self.abs(rel_path)
        if not os.path.islink(path):
            return None
        real = os.path.realpath(path)
        inside = _under(real, self._real_root())
        if inside is None or not inside or inside[0] not in ALLOWED_TOPS:
            raise OutsideProject(rel_path, "a symlink whose target is outside the project")
        return "/".join(inside)

    def size_of(self, rel_path, *, within: tuple[str, ...] = ALLOWED_TOPS) -> int | None:
        """Size in bytes of the file a stored path names (links followed only inside), or None when
        it is missing, unreadable or outside the project. Never raises."""
        try:
            return self.read_path(rel_path, within=within).stat().st_size
        except (OSError, OutsideProject):
            return None

    def _real_root(self) -> str:
        return os.path.realpath(self.root)

    def _check_folders(self, rel_path, parts: tuple[str, ...], within: tuple[str, ...] = ALLOWED_TOPS) -> None:
        # lstat each folder below the root; realpath only from the first symlink on.
        cur = str(self.root)
        for i, part in enumerate(parts[:-1]):
            cur = os.path.join(cur, part)
            try:
                st = os.lstat(cur)
            except (FileNotFoundError, NotADirectoryError):
                return  # nothing deeper exists: no symlink can redirect it
            except OSError as e:
                raise OutsideProject(rel_path, f"cannot check its folders ({e.strerror or e})") from None
            if stat.S_ISLNK(st.st_mode):
                real = os.path.realpath(os.path.join(self.root, *parts[:-1]))
                # the file lands in the resolved folder: that folder must satisfy `within` too
                # (media/lnk -> ../data must not let a take record name data/shots.db)
                if not _allowed(_under(real, self._real_root()), within, folder=True):
                    raise OutsideProject(rel_path, f"its folder {'/'.join(parts[:i + 1])} is a symlink "
                                                   "leading outside the project")
                return

    def _check_target(self, rel_path, path: Path, within: tuple[str, ...] = ALLOWED_TOPS) -> None:
        if os.path.islink(path):
            real = os.path.realpath(path)
            if not _allowed(_under(real, self._real_root()), within):
                raise OutsideProject(rel_path, "a symlink whose target is outside the project")

    def required_dirs(self) -> list[Path]:
        return [self.data, self.csv, self.backup, self.saves, self.media, self.logs,
                *(self.media / k for k in ASSET_KINDS)]

    def looks_like_project(self) -> bool:
        return self.db.exists() or self.config.exists()


def _under(real: str, real_root: str) -> list[str] | None:
    """Components of `real` below `real_root` (both resolved), or None when it is not below."""
    if real == real_root:
        return []
    prefix = real_root.rstrip(os.sep) + os.sep
    if not real.startswith(prefix):
        return None
    return [p for p in real[len(prefix):].split(os.sep) if p]


def _allowed(inside: list[str] | None, within: tuple[str, ...], *, folder: bool = False) -> bool:
    """`inside` (components below the real root) lies in one of `within` ("media", "data/trash"…)
    and in ALLOWED_TOPS. A folder may also be exactly the prefix folder itself."""
    if not inside or inside[0] not in ALLOWED_TOPS:
        return False
    for w in within:
        wp = w.split("/")
        if inside[:len(wp)] == wp and (folder or len(inside) > len(wp) or len(wp) == 1):
            return True
    return False
