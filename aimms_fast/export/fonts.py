"""The font the media exports draw text with: DejaVu Sans (Latin, Greek, Cyrillic, Armenian,
Georgian, Hebrew, Arabic basics and many symbols), so shot names in most scripts print as text,
not boxes. CJK is outside DejaVu; such characters show as the font's missing-glyph box.

Looked for in the Debian package `fonts-dejavu-core` (tools/bootstrap.sh installs it), then in
matplotlib's bundled copy if that happens to be installed, then by `fc-match`.
"""
from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from aimms_fast.errors import AimmsError

_SYSTEM_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/TTF"),
                Path("/usr/share/fonts/dejavu"), Path("/usr/local/share/fonts"),
                Path("/Library/Fonts"), Path.home() / "Library/Fonts", Path("C:/Windows/Fonts")]


def _matplotlib_dir() -> Path | None:
    spec = find_spec("matplotlib")   # no import: matplotlib takes ~0.5 s to import
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "fonts" / "ttf"


@lru_cache(maxsize=4)
def font_path(bold: bool = False) -> Path:
    """Absolute path of DejaVuSans(-Bold).ttf; AimmsError with the install hint if none is found."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    dirs = list(_SYSTEM_DIRS)
    mpl = _matplotlib_dir()
    if mpl is not None:
        dirs.append(mpl)
    for d in dirs:
        p = d / name
        if p.is_file():
            return p
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans:bold" if bold else "DejaVu Sans"],
                                 capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out and Path(out).name == name and Path(out).is_file():
            return Path(out)
    raise AimmsError(f"font {name} not found", path=name,
                     hint="install DejaVu fonts (Debian/Ubuntu: apt-get install fonts-dejavu-core)")


@lru_cache(maxsize=32)
def pil_font(size: int, bold: bool = False):
    """A Pillow FreeType font of `size` pixels."""
    from PIL import ImageFont
    return ImageFont.truetype(str(font_path(bold)), size)
