"""Fountain screenplay -> scenes and beats (the structured story data the shot list is made from).

Parser choice (issue 12): screenplain (PyPI) over jouvence, measured on every file in
shared/realdata/screenplay: jouvence never returns on fountain_tests/Simple.fountain (an endless
loop, killed after 20 s), keeps notes and boneyard text inside actions, does not know dual dialogue
(`EVE ^` came back as action) and ignores scene numbers; screenplain handles notes, boneyard,
dual dialogue, scene numbers (#1A#) and sections on all of them. What both get wrong, done here:
a scene heading followed directly by text without the blank line Fountain asks for (Brick & Steel's
first scene `EXT. BRICK'S PATIO - DAY` and `.OPENING TITLES` became a character cue) — Highland,
Fade In and Storyboarder read those as headings, so we add the blank line before parsing.

Pure functions, any thread.
"""
from __future__ import annotations

import io
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from aimms_fast.errors import AimmsError

_HEADING = re.compile(r"^(?:(?:INT|EXT|EST|INT\.?/EXT|I/E)[. ]|\.(?!\.)\S)", re.IGNORECASE)
_NUMBER = re.compile(r"\s*#([^#\s]+)#\s*$")
TIMES = {"DAY", "NIGHT", "MORNING", "EVENING", "AFTERNOON", "DUSK", "DAWN", "NOON", "SUNSET",
         "SUNRISE", "CONTINUOUS", "LATER", "MOMENTS LATER", "SAME", "SAME TIME", "MIDNIGHT"}
_EXT = re.compile(r"\s*\((?:V\.?O\.?|O\.?S\.?|O\.?C\.?|CONT'?D|CONT\.?|CONTINUED|[^)]*)\)\s*", re.IGNORECASE)


@dataclass
class Beat:
    kind: str                       # 'action' | 'dialogue'
    text: str                       # the action, or the spoken lines (parentheticals kept in brackets)
    speakers: list[str] = field(default_factory=list)   # cue names, 2 for dual dialogue
    ms: int = 0                     # estimated screen time (Storyboarder's word-rate rule, `words_ms`)

    def dialogue_line(self) -> str:
        return self.text if self.kind == "dialogue" else ""


@dataclass
class Scene:
    index: int                      # 1-based position in the script
    heading: str                    # without the scene number
    number: str | None              # the script's own scene number (#1A#), kept as written
    section: str                    # the enclosing '# Act' sections joined with ' / ', or ''
    int_ext: str                    # 'INT', 'EXT', 'INT/EXT' or ''
    location: str
    time_of_day: str
    beats: list[Beat] = field(default_factory=list)

    @property
    def speakers(self) -> list[str]:
        out: list[str] = []
        for b in self.beats:
            for s in b.speakers:
                if s not in out:
                    out.append(s)
        return out

    @property
    def label(self) -> str:
        return f"{self.number or self.index} {self.heading}".strip()

    def text(self) -> str:
        return "\n".join(b.text for b in self.beats)


@dataclass
class Script:
    path: str
    title: str
    scenes: list[Scene]
    speakers: list[str]             # every speaking character, in order of first line


def word_count(text: str) -> int:
    """Storyboarder's count: trimmed, runs of spaces collapsed, split on ' '."""
    t = re.sub(r" +", " ", (text or "").strip())
    return len(t.split(" ")) if t else 0


def words_ms(kind: str, text: str) -> int:
    """Storyboarder's screen-time rule (its fountain parser, createScript): action 200 ms a word +
    500 ms, dialogue and parentheticals 300 ms a word + 1000 ms each, centred text 2000 ms, headings
    and transitions 0."""
    if kind == "centered":
        return 2000
    if kind == "action":
        return word_count(text) * 200 + 500
    return word_count(text) * 300 + 1000


def speaker_name(cue: str) -> str:
    """'MAN (V.O.)' -> 'MAN'; '@McCLANE' -> 'McCLANE'; 'BRICK ^' -> 'BRICK'."""
    name = cue.strip().lstrip("@").rstrip("^").strip()
    return _EXT.sub(" ", name).strip()


def split_heading(heading: str) -> tuple[str, str, str]:
    """'EXT. BRICK'S PATIO - DAY' -> ('EXT', "BRICK'S PATIO", 'DAY')."""
    h = heading.strip().lstrip(".").strip()
    m = re.match(r"^(INT\.?/EXT|I/E|INT|EXT|EST)[. ]\s*", h, re.IGNORECASE)
    ie = ""
    if m:
        ie = m.group(1).upper().replace("I/E", "INT/EXT").replace(".", "")
        h = h[m.end():]
    parts = [p.strip() for p in re.split(r"\s+-+\s+", h) if p.strip()]
    if not parts:
        return ie, "", ""
    time = next((p for p in parts[1:] if p.upper() in TIMES), "")
    return ie, parts[0], time


def _fix_headings(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out = []
    for k, line in enumerate(lines):
        out.append(line)
        nxt = lines[k + 1] if k + 1 < len(lines) else ""
        prev = lines[k - 1] if k else ""
        if _HEADING.match(line.strip()) and not prev.strip() and nxt.strip() and k > 0:
            out.append("")
    return "\n".join(out)


def parse_text(text: str, path: str = "") -> Script:
    from screenplain import types as T
    from screenplain.parsers import fountain as SF
    try:
        play = SF.parse(io.StringIO(_fix_headings(text)))
    except Exception as e:  # screenplain raises plain exceptions on some malformed input
        raise AimmsError(f"cannot read the screenplay ({e})", path=path or None,
                         hint="check that it is a Fountain (.fountain) text file") from e
    title = ""
    for key, vals in (play.title_page or {}).items():
        if key.lower() == "title" and vals:
            title = re.sub(r"[_*]", "", " ".join(str(v) for v in vals)).strip()
    scenes: list[Scene] = []
    sections: dict[int, str] = {}
    cur: Scene | None = None
    speakers: list[str] = []

    def scene() -> Scene:
        nonlocal cur
        if cur is None:  # text before the first heading (a cold open, FADE IN:)
            cur = Scene(len(scenes) + 1, "", None, _section(), "", "", "")
            scenes.append(cur)
        return cur

    def _section() -> str:
        return " / ".join(sections[k] for k in sorted(sections))

    def dialog(d) -> Beat:
        name = speaker_name(str(d.character))
        lines = [f"({str(t).strip('()')})" if paren else str(t) for paren, t in d.blocks]
        ms = sum(words_ms("dialogue", str(t)) for _, t in d.blocks if str(t).strip())
        return Beat("dialogue", f"{name}: " + " ".join(x for x in lines if x.strip()), [name], ms)

    for p in play.paragraphs:
        if isinstance(p, T.Section):
            for k in [k for k in sections if k >= p.level]:
                del sections[k]
            sections[p.level] = str(p.text).strip()
        elif isinstance(p, T.Slug):
            heading = _NUMBER.sub("", str(p.line)).strip()
            ie, loc, tod = split_heading(heading)
            cur = Scene(len(scenes) + 1, heading, str(p.scene_number) if p.scene_number else None,
                        _section(), ie, loc, tod)
            scenes.append(cur)
        elif isinstance(p, T.Action):
            # a '= synopsis' line screenplain did not attach to a section is a note to the writer
            txt = "\n".join(str(x) for x in p.lines if not str(x).startswith("= ")).strip()
            if txt:
                scene().beats.append(Beat("action", txt, [], words_ms("centered" if p.centered else "action", txt)))
        elif isinstance(p, T.Dialog) and str(p.character).lstrip().startswith(">"):
            # '> BURN TO PINK.' then '>the end<' with no blank line between: a transition and a
            # centred line, not a character speaking
            txt = " ".join(str(t).strip("<> ") for _, t in p.blocks).strip()
            if txt:
                scene().beats.append(Beat("action", txt, [], 2000))
        elif isinstance(p, T.Dialog):
            scene().beats.append(dialog(p))
        elif isinstance(p, T.DualDialog):
            a, b = dialog(p.left), dialog(p.right)
            scene().beats.append(Beat("dialogue", f"{a.text} / {b.text}", a.speakers + b.speakers, a.ms + b.ms))
        # transitions and page breaks make no shot
    for s in scenes:
        for name in s.speakers:
            if name not in speakers:
                speakers.append(name)
    return Script(path, title, scenes, speakers)


def parse_file(path: str | Path) -> Script:
    p = Path(path)
    try:
        # O_NONBLOCK + fstat: a FIFO or device named as the script would block read() forever
        # (issue 14); it is refused before one byte is read.
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise AimmsError("not a regular file (a folder, FIFO or device)", path=p,
                                 hint="name the .fountain file itself")
            data = f.read()
    except OSError as e:
        raise AimmsError(f"cannot read the screenplay ({e.strerror or e})", path=p,
                         hint="check the file name and permissions") from e
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = data.decode("utf-16", errors="replace").encode("utf-8")
    if b"\x00" in data:
        # Text never holds NUL; a binary file would otherwise become shots of mojibake.
        raise AimmsError("this is not a text screenplay (it holds NUL bytes: a binary file?)", path=p,
                         hint="export the script as Fountain (plain text) and import that")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return parse_text(text, str(p))
