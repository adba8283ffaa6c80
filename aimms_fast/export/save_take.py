"""Save one take out of the project (AIMMS 1.0.1's "save as" from the player or shot window):
copied under `{shotname}_{filename}` (e.g. `Opening_video_03.mp4`) or a name the user types.

Never overwrites silently: an existing file is an error unless the caller asks for a numbered
name (`Opening_video_03_2.mp4`) or for replacement. The copy is atomic (temp name, fsync,
rename: ops/files.copy_into), so a full disk never leaves half a file under the final name.

Threads: any thread but the UI's (a large video copy takes seconds); reads the database only.
"""
from __future__ import annotations

from pathlib import Path

from aimms_fast.errors import AimmsError, NotFoundError

EXISTS_CHOICES = ("error", "number", "replace")


def default_name(shot_name: str | None, file_path: str, shot_id: int | None = None) -> str:
    """`{shotname}_{filename}` with the shot name made safe for every file system."""
    from aimms_fast.ops.backup import safe_filename
    return f"{safe_filename(shot_name, f'shot{shot_id}' if shot_id is not None else 'shot')}_" \
           f"{Path(str(file_path).replace(chr(92), '/')).name}"


def save_take_as(project, take_id: str, dest_dir: str | Path, *, name: str | None = None,
                 exists: str = "error") -> Path:
    """Copy take `take_id` into `dest_dir`; returns the written path.

    name: None for `{shotname}_{filename}`, else a custom file name (the take's extension is
    added when the name lacks it). exists: 'error' (default: AimmsError naming the file),
    'number' (add _2, _3, ...) or 'replace'.
    """
    from aimms_fast.ops.backup import safe_filename
    from aimms_fast.ops.files import copy_into
    from aimms_fast.store.shots import get_shot
    from aimms_fast.store.takes import get_take
    if exists not in EXISTS_CHOICES:
        raise AimmsError(f"exists must be one of {', '.join(EXISTS_CHOICES)} (got {exists!r})", field="exists")
    t = get_take(project.conn, take_id)
    if t is None:
        raise NotFoundError(f"no take with id {take_id!r}", field="take_id",
                            hint="the take may have been deleted; refresh the view")
    src = project.layout.read_path(t.file_path)  # OutsideProject for a path outside (issue 14)
    if not src.is_file():
        raise AimmsError("the take's file is missing from the project", path=src,
                         hint="restore it from a backup or replace the take")
    if src.stat().st_size == 0:
        raise AimmsError("the take is an empty placeholder; there is nothing to save", path=src,
                         hint="replace the placeholder with a generated file first")
    ext = src.suffix
    if name is None:
        shot = get_shot(project.conn, t.shot_id) or {}
        fname = default_name(shot.get("shot_name"), t.file_path, t.shot_id)
    else:
        stem = Path(str(name)).name.strip()
        if stem.lower().endswith(ext.lower()):
            stem = stem[:len(stem) - len(ext)]
        fname = safe_filename(stem, "") + ext
        if fname == ext:
            raise AimmsError(f"{name!r} is not a usable file name", field="name",
                             hint="type a name with letters or digits")
    dest_dir = Path(dest_dir).expanduser()
    if dest_dir.exists() and not dest_dir.is_dir():
        raise AimmsError("not a folder", path=dest_dir, hint="choose a folder to save the take into")
    dest = dest_dir / fname
    if dest.exists():
        if exists == "error":
            raise AimmsError("a file with this name already exists", path=dest,
                             hint="choose another name, or save with a number added")
        if exists == "number":
            stem, n = dest.stem, 2
            while dest.exists():
                dest = dest_dir / f"{stem}_{n}{ext}"
                n += 1
    if dest.resolve() == src.resolve():
        raise AimmsError("that is the take's own file", path=dest, hint="save it to another folder")
    copy_into(src, dest)
    project.log.info("saved take %s (%s) as %s", take_id, t.file_path, dest)
    return dest
