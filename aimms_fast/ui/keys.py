"""The keyboard map: one table that drives the key dispatcher, the F1 overlay and docs/keyboard.md.

Chords are written as the user reads them ("Ctrl+1", "PgDn", "S"). `context` says where a chord
works: "global" everywhere (also while typing, only with Ctrl or an F-key), "storyboard" on the
Images and Videos pages, "shots" on the Shots page, "shot" in a shot window. Plain keys never fire
while a text field has the keyboard.
"""
from __future__ import annotations

from dataclasses import dataclass

PAGES = ["shots", "images", "videos", "assets", "unused", "settings", "logs", "routing"]
PAGE_TITLES = {"shots": "Shots", "images": "Images", "videos": "Videos", "assets": "Assets",
               "unused": "Unused", "settings": "Settings", "logs": "Logs", "routing": "Routing"}


@dataclass(frozen=True)
class Shortcut:
    context: str
    chord: str
    action: str
    text: str


SHORTCUTS: list[Shortcut] = [
    *(Shortcut("global", f"Ctrl+{i + 1}", f"page:{p}", f"Go to the {PAGE_TITLES[p]} page")
      for i, p in enumerate(PAGES)),
    Shortcut("global", "Ctrl+N", "new_project", "New project"),
    Shortcut("global", "Ctrl+O", "open_project", "Open a project"),
    Shortcut("global", "Ctrl+E", "export_csv", "Export CSV"),
    Shortcut("global", "Ctrl+I", "import_csv", "Import CSV"),
    Shortcut("global", "Ctrl+S", "save", "Save a snapshot of the project"),
    Shortcut("global", "Ctrl+Z", "undo", "Undo the last delete"),
    Shortcut("global", "Ctrl+Q", "quit", "Quit"),
    Shortcut("global", "F5", "refresh", "Reload the page from disk"),
    Shortcut("global", "F11", "fullscreen", "Full screen on/off"),
    Shortcut("global", "F1", "keymap", "Show or hide this keyboard map"),
    Shortcut("global", "Escape", "escape", "Close the keyboard map or the focused dialog"),
    Shortcut("storyboard", "Left", "move:-1", "Previous card"),
    Shortcut("storyboard", "Right", "move:+1", "Next card"),
    Shortcut("storyboard", "Up", "move:-row", "Card above"),
    Shortcut("storyboard", "Down", "move:+row", "Card below"),
    Shortcut("storyboard", "PgUp", "move:-page", "One screen up"),
    Shortcut("storyboard", "PgDn", "move:+page", "One screen down"),
    Shortcut("storyboard", "Home", "move:first", "First card"),
    Shortcut("storyboard", "End", "move:last", "Last card"),
    Shortcut("storyboard", "Enter", "open", "Open the selected shot"),
    Shortcut("storyboard", "S", "star", "Star / unstar the shown take"),
    Shortcut("storyboard", ",", "frame:-1", "Video: previous filmstrip frame"),
    Shortcut("storyboard", ".", "frame:+1", "Video: next filmstrip frame"),
    Shortcut("storyboard", "+", "card:+", "Bigger cards"),
    Shortcut("storyboard", "-", "card:-", "Smaller cards"),
    Shortcut("shots", "Up", "move:-1", "Select the shot above"),
    Shortcut("shots", "Down", "move:+1", "Select the shot below"),
    Shortcut("shots", "Enter", "edit", "Edit the selected shot(s)"),
    Shortcut("shots", "Delete", "delete", "Delete the selected shot(s) (asks first)"),
    Shortcut("shots", "Ctrl+Up", "reorder:-1", "Move the selected shot up"),
    Shortcut("shots", "Ctrl+Down", "reorder:+1", "Move the selected shot down"),
    Shortcut("shots", "Ctrl+F", "search", "Search"),
    Shortcut("shot", "Left", "move:-1", "Previous take"),
    Shortcut("shot", "Right", "move:+1", "Next take"),
    Shortcut("shot", "S", "star", "Star / unstar the selected take"),
    Shortcut("shot", "Delete", "delete", "Delete the selected take (asks first)"),
    Shortcut("shot", ",", "frame:-1", "Video: previous filmstrip frame"),
    Shortcut("shot", ".", "frame:+1", "Video: next filmstrip frame"),
]

CONTEXT_TITLES = {"global": "Everywhere", "storyboard": "Images and Videos storyboards",
                  "shots": "Shots page", "shot": "Shot window"}


def lookup(context: str, chord: str) -> str | None:
    for s in SHORTCUTS:
        if s.context == context and s.chord == chord:
            return s.action
    return None


def by_context() -> dict[str, list[Shortcut]]:
    out: dict[str, list[Shortcut]] = {c: [] for c in CONTEXT_TITLES}
    for s in SHORTCUTS:
        out[s.context].append(s)
    return out


def markdown() -> str:
    """docs/keyboard.md body (a test keeps the file in step with this table)."""
    lines = ["# Keyboard map", "", "Press **F1** in the viewer to see this map on screen.", ""]
    for ctx, items in by_context().items():
        lines += [f"## {CONTEXT_TITLES[ctx]}", "", "| Keys | Action |", "|---|---|"]
        lines += [f"| `{s.chord}` | {s.text} |" for s in items]
        lines.append("")
    return "\n".join(lines)
