"""The keyboard map: one table that drives the key dispatcher, the F1 overlay and docs/keyboard.md.

Chords are written as the user reads them ("Ctrl+1", "Shift+Left", "Alt+I", "PgDn", "S"; modifiers
in the order Ctrl, Shift, Alt). `context` says where a chord works: "global" everywhere (also while
typing, only with Ctrl or an F-key), "storyboard" on the Images and Videos pages, "shots" on the
Shots page, "assets" on the Assets page; the floating windows each have their own ("shot", "player",
"compare", "tournament", "cutpoints", "model" the 3D viewer). A key goes to the focused floating window, and to the page only when no floating
window has focus. Plain keys never fire while a text field has the keyboard.
"""
from __future__ import annotations

from dataclasses import dataclass

PAGES = ["shots", "images", "videos", "assets", "unused", "settings", "logs", "routing"]
PAGE_TITLES = {"shots": "Shots", "images": "Images", "videos": "Videos", "assets": "Assets",
               "unused": "Unused", "settings": "Settings", "logs": "Logs", "routing": "Routing",
               "inbox": "Inbox / Jobs", "stats": "Stats", "script": "Script", "audit": "Audit"}
EXTRA_PAGES = ["inbox", "stats", "script", "audit"]  # after the eight, reachable from the View menu


@dataclass(frozen=True)
class Shortcut:
    context: str
    chord: str
    action: str
    text: str


def _transport(ctx: str) -> list[Shortcut]:
    """Player-style transport keys (xStudio / NLE conventions), shared by every playing window."""
    return [
        Shortcut(ctx, "Space", "play", "Play / pause"),
        Shortcut(ctx, "L", "shuttle:+1", "Play forward; again: 2x, 4x, 8x"),
        Shortcut(ctx, "J", "shuttle:-1", "Play in reverse; again: 2x, 4x, 8x"),
        Shortcut(ctx, "K", "pause", "Pause"),
        Shortcut(ctx, "Left", "step:-1", "One frame back (hold to repeat)"),
        Shortcut(ctx, "Right", "step:+1", "One frame forward (hold to repeat)"),
        Shortcut(ctx, "Shift+Left", "second:-1", "One second back"),
        Shortcut(ctx, "Shift+Right", "second:+1", "One second forward"),
        Shortcut(ctx, "Home", "first", "First frame"),
        Shortcut(ctx, "End", "last", "Last frame"),
        Shortcut(ctx, "I", "in", "Set the in point"),
        Shortcut(ctx, "O", "out", "Set the out point"),
        Shortcut(ctx, "Alt+I", "clear_in", "Clear the in point"),
        Shortcut(ctx, "Alt+O", "clear_out", "Clear the out point"),
        Shortcut(ctx, "P", "loop", "Loop between in and out on / off"),
    ]


SHORTCUTS: list[Shortcut] = [
    *(Shortcut("global", f"Ctrl+{i + 1}", f"page:{p}", f"Go to the {PAGE_TITLES[p]} page")
      for i, p in enumerate(PAGES)),
    Shortcut("global", "Ctrl+N", "new_project", "New project"),
    Shortcut("global", "Ctrl+O", "open_project", "Open a project"),
    Shortcut("global", "Ctrl+E", "export_csv", "Export CSV"),
    Shortcut("global", "Ctrl+I", "import_csv", "Import CSV"),
    Shortcut("global", "Ctrl+Shift+E", "export", "Export the starred cut (timeline, animatic, PDF, review page)"),
    Shortcut("global", "Ctrl+S", "save", "Save a snapshot of the project"),
    Shortcut("global", "Ctrl+Z", "undo", "Undo the last change"),
    Shortcut("global", "Ctrl+Shift+Z", "redo", "Redo what was undone"),
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
    Shortcut("storyboard", "Space", "play", "Play the take shown on the selected card"),
    Shortcut("storyboard", "C", "compare_add", "Add the take shown to the compare view"),
    Shortcut("storyboard", "T", "tournament", "All takes of the selected shot in the tournament"),
    Shortcut("storyboard", "X", "cutpoints", "Videos: cut points between starred takes"),
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
    Shortcut("shot", "Space", "play", "Play the selected take"),
    Shortcut("shot", "Enter", "play", "Play the selected take (double-click does too)"),
    Shortcut("shot", "C", "compare_add", "Add the selected take to the compare view"),
    Shortcut("shot", "T", "tournament", "All takes of this shot in the tournament"),
    Shortcut("shot", "Escape", "close", "Close the shot window"),
    *_transport("player"),
    Shortcut("player", ",", "take:-1", "Previous take of the shot"),
    Shortcut("player", ".", "take:+1", "Next take of the shot"),
    Shortcut("player", "S", "star", "Star / unstar the take shown"),
    Shortcut("player", "C", "compare_add", "Add this take to the compare view"),
    Shortcut("player", "F", "promote", "Promote the current frame to a new image take"),
    Shortcut("player", "M", "mute", "Sound on / off"),
    Shortcut("player", "Ctrl+0", "zoom:fit", "Fit the picture to the window"),
    Shortcut("player", "Ctrl+1", "zoom:100", "Show the picture at 100 %"),
    Shortcut("player", "Escape", "close", "Close the player"),
    *_transport("compare"),
    *(Shortcut("compare", str(i), f"solo:{i}", f"Show pane {i} alone (again: all panes)") for i in range(1, 5)),
    Shortcut("compare", "W", "mode:wipe", "Wipe A/B (drag the divider)"),
    Shortcut("compare", "D", "mode:difference", "Difference |A-B|"),
    Shortcut("compare", "B", "mode:blend", "Overlay / blend A over B"),
    Shortcut("compare", "N", "mode:side", "Panes side by side (again: stacked, grid)"),
    Shortcut("compare", "Y", "sync", "Sync by frame number / by time"),
    Shortcut("compare", "S", "star", "Star the take in the pane under the mouse (or A)"),
    Shortcut("compare", "Escape", "close", "Close the compare view"),
    *_transport("tournament"),
    *(Shortcut("tournament", str(i), f"star:{i}", f"Star take {i}") for i in range(1, 10)),
    Shortcut("tournament", "Tab", "shot:+1", "Next shot"),
    Shortcut("tournament", "Shift+Tab", "shot:-1", "Previous shot"),
    Shortcut("tournament", "Escape", "close", "Close the tournament"),
    Shortcut("assets", "Left", "move:-1", "Previous asset"),
    Shortcut("assets", "Right", "move:+1", "Next asset"),
    Shortcut("assets", "Up", "move:-row", "Asset above"),
    Shortcut("assets", "Down", "move:+row", "Asset below"),
    Shortcut("assets", "PgUp", "move:-page", "One screen up"),
    Shortcut("assets", "PgDn", "move:+page", "One screen down"),
    Shortcut("assets", "Home", "move:first", "First asset"),
    Shortcut("assets", "End", "move:last", "Last asset"),
    Shortcut("assets", "Enter", "open", "3D model: open the 3D viewer; other files: open in the desktop's program"),
    Shortcut("assets", "S", "star", "Star / unstar the selected asset"),
    Shortcut("assets", "F2", "rename", "Rename the selected asset"),
    Shortcut("assets", "A", "assign", "Assign the selected asset to the shots selected on the Shots page"),
    Shortcut("assets", "Delete", "delete", "Delete the selected asset (asks first; Ctrl+Z brings it back)"),
    Shortcut("assets", "Ctrl+F", "search", "Search assets by name, tag or notes"),
    Shortcut("assets", "+", "card:+", "Bigger cards"),
    Shortcut("assets", "-", "card:-", "Smaller cards"),
    Shortcut("model", "F", "view:fit", "Frame the whole model"),
    Shortcut("model", "Enter", "view:reset", "Reset the view"),
    Shortcut("model", "1", "view:front", "Front view"),
    Shortcut("model", "3", "view:right", "Right view"),
    Shortcut("model", "7", "view:top", "Top view"),
    Shortcut("model", "9", "view:iso", "Three-quarter (iso) view"),
    Shortcut("model", "W", "view:wireframe", "Wireframe on / off"),
    Shortcut("model", "G", "view:grid", "Ground grid on / off"),
    Shortcut("model", "B", "view:background", "Next background (dark, grey, light)"),
    Shortcut("model", "L", "view:light", "Turn the light 45° around the model"),
    Shortcut("model", "Space", "play", "Play / pause the model's animation"),
    Shortcut("model", "Escape", "close", "Close the 3D viewer"),
    Shortcut("cutpoints", "Left", "move:-1", "Previous cut"),
    Shortcut("cutpoints", "Right", "move:+1", "Next cut"),
    Shortcut("cutpoints", "Enter", "open", "Open the pair in compare (tail of N, head of N+1)"),
    Shortcut("cutpoints", "Escape", "close", "Close the cut points"),
    Shortcut("inbox", "Up", "move:-1", "Previous item (or job)"),
    Shortcut("inbox", "Down", "move:+1", "Next item (or job)"),
    Shortcut("inbox", "J", "switch", "Switch between the Inbox and the Jobs list"),
    Shortcut("inbox", "A", "accept", "Add the item as a take of its suggested shot"),
    Shortcut("inbox", "R", "reassign", "Inbox: add it to the shot chosen in 'Reassign to'; Jobs: retry the job"),
    Shortcut("inbox", "I", "ignore", "Ignore the item (the file stays where it is)"),
    Shortcut("inbox", "C", "cancel", "Cancel the selected job"),
    Shortcut("inbox", "Q", "queue", "Queue the shots chosen above to ComfyUI"),
]

CONTEXT_TITLES = {"global": "Everywhere", "storyboard": "Images and Videos storyboards",
                  "shots": "Shots page", "shot": "Shot window", "player": "Player",
                  "compare": "Compare view", "tournament": "Tournament", "cutpoints": "Cut points",
                  "assets": "Assets page", "inbox": "Inbox / Jobs page (ComfyUI)", "model": "3D viewer (drag: left orbits, middle or Shift pans; "
                                                    "wheel zooms)"}


def chord_of(name: str, *, ctrl: bool = False, shift: bool = False, alt: bool = False) -> str:
    """The chord a key press spells, modifiers in the table's order."""
    return ("Ctrl+" if ctrl else "") + ("Shift+" if shift else "") + ("Alt+" if alt else "") + name


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
