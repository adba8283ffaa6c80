"""Handing a folder or a file to the desktop: "Open folder", "Reveal in folder", "Open in editor",
the user guide in the browser.

Linux desktops differ: xdg-open (xdg-utils) is the usual way, GNOME/GTK systems without xdg-utils
have `gio open`, and some users name their own file manager (Settings > file manager, e.g.
"thunar" or "nautilus --new-window"). Each is tried in that order; the first program that exists
and starts wins. When none exists the result says so and what to install or set — never an
exception (a missing xdg-open used to end the app). Windows and macOS have one way each.

No Dear PyGui here: the app shows the result (`OpenResult.message`). Programs are started without
waiting for them (a file manager may run for hours)."""
from __future__ import annotations

import logging
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass
class OpenResult:
    ok: bool
    message: str                  # what to tell the user (toast on success, dialog on failure)
    title: str = "Could not open"
    tried: list[str] = field(default_factory=list)   # the commands tried, in order
    command: list[str] | None = None                 # the one that started


def _candidates(target: Path, file_manager: str) -> list[list[str]]:
    if sys.platform.startswith("win"):
        return [["explorer", str(target)]]
    if sys.platform == "darwin":
        return [["open", str(target)]]
    out = [["xdg-open", str(target)], ["gio", "open", str(target)]]
    if file_manager.strip():
        try:
            out.append([*shlex.split(file_manager), str(target)])
        except ValueError:     # unbalanced quotes in the setting: use it as one program name
            out.append([file_manager.strip(), str(target)])
    return out


def _start(cmds: list[list[str]]) -> tuple[list[str] | None, list[str], list[str]]:
    """Start the first command whose program exists. Returns (started, tried, failures)."""
    tried, failures = [], []
    for cmd in cmds:
        tried.append(" ".join(cmd[:-1]))
        exe = shutil.which(cmd[0])
        if exe is None:
            failures.append(f"{cmd[0]}: not installed")
            continue
        try:
            subprocess.Popen([exe, *cmd[1:]], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError as e:
            log.warning("could not start %s: %s (trying the next way to open %s)", cmd[0], e, cmd[-1])
            failures.append(f"{cmd[0]}: {e.strerror or e}")
            continue
        return cmd, tried, failures
    return None, tried, failures


def _open(target: Path, what: str, file_manager: str) -> OpenResult:
    if not target.exists():
        return OpenResult(False, f"{target} does not exist (moved or deleted?).", title=f"Could not open the {what}")
    started, tried, failures = _start(_candidates(target, file_manager))
    if started is not None:
        return OpenResult(True, f"opened {target}", tried=tried, command=started)
    hint = ("Install xdg-utils (for example: sudo apt install xdg-utils), or name your file manager "
            "in Settings (File manager, e.g. thunar, nautilus or dolphin).")
    return OpenResult(False, f"No program to open the {what} {target} was found "
                             f"({'; '.join(failures)}).\n\n{hint}",
                      title=f"Could not open the {what}", tried=tried)


def open_folder(path: Path, *, file_manager: str = "") -> OpenResult:
    """Show a folder in the file manager: xdg-open, gio open, then the Settings file manager."""
    return _open(Path(path), "folder", file_manager)


def open_file(path: Path, *, file_manager: str = "") -> OpenResult:
    """Open a file in the desktop's program for it ("Open in editor", the user guide in the
    browser): xdg-open, gio open, then the Settings file manager on the file."""
    return _open(Path(path), "file", file_manager)

