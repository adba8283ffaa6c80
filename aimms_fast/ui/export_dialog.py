"""File > Export… (Ctrl+Shift+E): the starred cut to an editor timeline, an animatic, PDF boards or
the HTML review page, with the options of `aimms export` and a preview of what will be written.

The preview is the cut itself (export/timeline.py `build_cut`, the same function every writer
starts from), rebuilt on the UI connection whenever an option that shapes it changes. Measured on
the 600-shot demo project (2 shared cores, Xvfb): build_cut ~100 ms, the whole refresh with its
600-row table ~170 ms, opening the dialog ~0.5 s; a frame with the dialog open costs ~20 ms more
(the table draws only its visible rows). A change of option is a click, so this stays on the UI
thread rather than adding a job round-trip. The export runs
as an app job (`App.run_job`) on the job's own project connection, with a progress bar and a
Cancel button; a cancelled writer leaves no file (each writes under a temp name and renames).

The dialog stays open after an export, showing what was written and a button to open its folder,
so several formats can be written in one sitting. UI thread only.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import dearpygui.dearpygui as dpg

from aimms_fast.errors import AimmsError, Cancelled
from aimms_fast.ui import theme as T

EDITOR_FORMATS = ("otio", "edl", "fcp7", "fcpx", "kdenlive")
FORMAT_ORDER = ["edl", "fcp7", "fcpx", "otio", "kdenlive", "animatic", "pdf", "html"]
FORMAT_TITLES = {"otio": "OpenTimelineIO", "edl": "EDL (CMX 3600)", "fcp7": "FCP 7 XML (Premiere, Resolve)",
                 "fcpx": "FCPXML (Final Cut Pro)", "kdenlive": "Kdenlive project", "animatic": "Animatic MP4",
                 "pdf": "PDF storyboard pages", "html": "HTML review page"}
MISSING_LABELS = {"skip": "leave them out", "gap": "black gap", "title": "title card"}
STORYBOARD_LABELS = {"video": "Video (starred takes)", "image": "Image (slot-1 stills)"}
ALL_SECTIONS = "(all sections)"
PREVIEW_ROWS_SHOWN = 2000   # a table row is ~8 items; the clipper draws only the visible ones

# The folder the last export went to, per project root, for the next dialog (this session only).
_last_folder: dict[str, Path] = {}


@dataclasses.dataclass
class PreviewRow:
    """One line of the preview, as shown."""
    number: int
    shot: str
    section: str
    take: str
    kind: str
    start: str
    duration: str

    def cells(self) -> list[str]:
        return [str(self.number), self.shot, self.section, self.take, self.kind, self.start, self.duration]


def clock(seconds: float) -> str:
    """0:02.50 (minutes:seconds.hundredths): the cut's running time as a reader counts it."""
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:05.2f}"


def preview_rows(cut) -> list[PreviewRow]:
    """The cut's clips as the preview shows them. Any thread (pure)."""
    rows, t = [], 0.0
    for i, c in enumerate(cut.clips, 1):
        if c.kind in ("gap", "title"):
            take = c.reason or "no take"
        else:
            take = f"take {c.take_number}" if c.take_number is not None else (c.rel or "")
        frames = int(round(c.duration_s * cut.fps))
        rows.append(PreviewRow(i, c.shot_name, c.section, take, c.kind, clock(t), f"{c.duration_s:.2f} s ({frames} f)"))
        t += frames / cut.fps
    return rows


def summary(cut) -> str:
    kinds: dict[str, int] = {}
    for c in cut.clips:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    parts = [f"{n} {k}{'s' if n != 1 else ''}" for k, n in kinds.items()]
    return (f"{len(cut.clips)} clip{'s' if len(cut.clips) != 1 else ''}"
            + (f" ({', '.join(parts)})" if parts else "")
            + f", {clock(cut.total_s)} in all ({cut.total_s:.2f} s) at {cut.fps:g} fps, {cut.width}x{cut.height}")


def _note_role(note: str) -> str:
    return "warning" if re.match(r"(skipped|gap|title|conformed|the cut is empty)", note) or ": stored trim" in note \
        else "dim"


def ordered_notes(notes: list[str]) -> list[str]:
    """Notes about the whole cut (rate, conforming, an empty cut) before the one-per-shot lines
    (gaps, titles, skips), which can run to hundreds."""
    per_shot = re.compile(r"(skipped|gap for|title for) ")
    return sorted(notes, key=lambda n: 1 if per_shot.match(n) else 0)


def default_out(project, fmt: str, storyboard: str) -> Path:
    """Where an export goes unless the user says otherwise: beside the project, in
    `<project folder>_exports/` (not inside it: the project's own folders are AIMMS's)."""
    from aimms_fast.export import FORMAT_INFO
    folder = _last_folder.get(str(project.root)) or project.root.resolve().parent / f"{project.root.name}_exports"
    stem = re.sub(r"[^\w.-]+", "_", project.name).strip("_") or "cut"
    stem += "_review" if fmt == "html" else f"_{storyboard}"
    info = FORMAT_INFO.get(fmt)
    return folder / (stem + (info.suffix if info and not info.folder else ""))


class ExportDialog:
    """The modal Export window. Tests drive it through `set_option`, `export` and read `rows`,
    `notes`, `result` and the dialog's text items."""

    def __init__(self, app):
        from aimms_fast import export as ex
        from aimms_fast.store.shots import sections
        ex.load()
        self.app = app
        self._project = app.project
        self.formats = [f for f in FORMAT_ORDER if f in ex.FORMATS] + sorted(set(ex.FORMATS) - set(FORMAT_ORDER))
        self.labels = {f: f"{FORMAT_TITLES.get(f, f)}  ·  {f}" for f in self.formats}
        self.cut = None
        self.rows: list[PreviewRow] = []
        self.notes: list[str] = []
        self.error: str | None = None
        self.result = None          # the last ExportResult
        self.job = None
        self.fmt = self.formats[0]
        vw = dpg.get_viewport_client_width() or 1280
        vh = dpg.get_viewport_client_height() or 800
        w, h = min(1060, vw - 40), min(840, vh - 50)
        # Not modal: a job's progress dialog (modal) must open over it, and ImGui keeps one modal
        # per level (a second one opened over a first is closed at once: measured, on_close fires).
        self.win = app.dialogs._window("Export the starred cut", w, h, modal=False)
        dpg.set_item_pos(self.win, [max(0, (vw - w) // 2), max(0, (vh - h) // 2)])
        self._build(sections(self.project.conn))
        self._format_changed(self.fmt, first=True)

    @property
    def project(self):
        """The project the dialog was opened on; AimmsError once it was closed or another opened."""
        if self.app.project is not self._project or self._project is None:
            raise AimmsError("the project this Export dialog was opened on is closed",
                             hint="close this dialog and open File > Export… again")
        return self._project

    # -- layout ------------------------------------------------------------------------------------
    def _build(self, sections: list[str]) -> None:
        app, win = self.app, self.win
        # The options as a two-column form: names in a fixed column, so none is clipped and the
        # controls line up; a format's own options are rows shown only for that format.
        form = dpg.add_table(parent=win, header_row=False, policy=dpg.mvTable_SizingFixedFit,
                             borders_innerH=False, borders_outerH=False)
        dpg.add_table_column(parent=form, width_fixed=True)
        dpg.add_table_column(parent=form, width_stretch=True, init_width_or_weight=1.0)

        def row(label: str):
            r = dpg.add_table_row(parent=form)
            T.text(app, r, label, "text")
            return dpg.add_group(parent=r, horizontal=True)

        g = row("Format")
        self.fmt_combo = dpg.add_combo([self.labels[f] for f in self.formats], parent=g, width=420,
                                       default_value=self.labels[self.fmt],
                                       callback=lambda s, a: self._format_changed(self._fmt_of(a)))
        self.fmt_help = T.text(app, g, "", "dim")
        g = row("Storyboard")
        self.sb_radio = dpg.add_radio_button(list(STORYBOARD_LABELS.values()), parent=g, horizontal=True,
                                             default_value=STORYBOARD_LABELS["video"],
                                             callback=lambda: self._options_changed(storyboard=True))
        g = row("Section")
        self.section_combo = dpg.add_combo([ALL_SECTIONS] + sections, parent=g, width=300,
                                           default_value=ALL_SECTIONS, callback=lambda: self.refresh())
        g = row("Shots with no take")
        self.missing_radio = dpg.add_radio_button(list(MISSING_LABELS.values()), parent=g, horizontal=True,
                                                  default_value=MISSING_LABELS["gap"], callback=lambda: self.refresh())
        g = row("Frame rate")
        self.fps_input = dpg.add_input_text(parent=g, width=120, hint="auto", on_enter=True,
                                            callback=lambda: self.refresh())
        app.register_text_input(self.fps_input)
        dpg.add_button(parent=g, label="Apply", callback=lambda: self.refresh())
        self.fps_help = T.text(app, g, "empty: the most common rate of the starred takes", "dim")

        # per-format options (one group each, shown for its formats)
        self.groups: dict[str, int] = {}
        self.groups["editor"] = g = row("Handoff folder")
        self.copy_check = dpg.add_checkbox(parent=g, label="Copy the media into", default_value=False)
        self.copy_input = dpg.add_input_text(parent=g, width=-110)
        app.register_text_input(self.copy_input)
        dpg.add_button(parent=g, label="Browse…", callback=lambda: self._browse(self.copy_input, keep_name=False))
        self.groups["animatic"] = g = row("Animatic")
        dpg.add_text("Size", parent=g)
        self.size_input = dpg.add_input_text(parent=g, width=120, hint="auto")
        app.register_text_input(self.size_input)
        self.burn_check = dpg.add_checkbox(parent=g, label="Burn in shot name, section and timecode")
        self.groups["pdf"] = g = row("PDF pages")
        dpg.add_text("Rows", parent=g)
        self.rows_input = dpg.add_input_int(parent=g, width=90, default_value=3, min_value=1, max_value=12,
                                            min_clamped=True, max_clamped=True)
        dpg.add_text("Columns", parent=g)
        self.cols_input = dpg.add_input_int(parent=g, width=90, default_value=3, min_value=1, max_value=12,
                                            min_clamped=True, max_clamped=True)
        dpg.add_text("Paper", parent=g)
        self.paper_combo = dpg.add_combo(["A4", "Letter"], parent=g, width=90, default_value="A4")
        self.orient_radio = dpg.add_radio_button(["landscape", "portrait"], parent=g, horizontal=True,
                                                 default_value="landscape")
        self.pdf_prompts = dpg.add_checkbox(parent=g, label="Prompts")
        self.groups["html"] = g = row("Review page")
        dpg.add_text("Proxies", parent=g)
        self.proxies_combo = dpg.add_combo(["auto", "always", "never"], parent=g, width=100, default_value="auto")
        self.html_prompts = dpg.add_checkbox(parent=g, label="Show the prompts", default_value=True)

        g = row("Save to")
        self.out_input = dpg.add_input_text(parent=g, width=-110)
        app.register_text_input(self.out_input)
        dpg.add_button(parent=g, label="Browse…", callback=lambda: self._browse(self.out_input, keep_name=True))

        dpg.add_separator(parent=win)
        self.summary_text = T.text(app, win, "", "heading")
        self.table = dpg.add_table(parent=win, header_row=True, clipper=True, scrollY=True, height=-200,
                                   row_background=True, resizable=True, borders_innerV=True, freeze_rows=1,
                                   policy=dpg.mvTable_SizingStretchProp)
        dpg.bind_item_theme(self.table, app.themes["table"])
        for label, wt in [("#", 0.35), ("Shot", 2.0), ("Section", 1.2), ("Take", 2.2), ("Kind", 0.7),
                          ("Starts", 0.8), ("Duration", 1.2)]:
            dpg.add_table_column(label=label, parent=self.table, init_width_or_weight=wt)
        self.notes_box = dpg.add_child_window(parent=win, height=-40, border=True)
        with dpg.group(parent=win, horizontal=True):
            self.export_button = dpg.add_button(label="Export", width=140, callback=lambda: self.export())
            self.open_button = dpg.add_button(label="Open the folder", width=160, show=False,
                                              callback=lambda: self._open_folder())
            dpg.add_button(label="Close", width=100, callback=lambda: self.close())
            self.status_text = T.text(app, 0, "", "dim")

    # -- options -----------------------------------------------------------------------------------
    def _fmt_of(self, label: str) -> str:
        return next(f for f, lab in self.labels.items() if lab == label)

    @property
    def storyboard(self) -> str:
        v = dpg.get_value(self.sb_radio)
        return next(k for k, lab in STORYBOARD_LABELS.items() if lab == v)

    @property
    def missing(self) -> str:
        v = dpg.get_value(self.missing_radio)
        return next(k for k, lab in MISSING_LABELS.items() if lab == v)

    @property
    def section(self) -> str | None:
        v = dpg.get_value(self.section_combo)
        return None if v == ALL_SECTIONS else v

    def fps(self) -> float | None:
        text = dpg.get_value(self.fps_input).strip()
        if not text:
            return None
        try:
            v = float(text.replace(",", "."))
        except ValueError:
            raise AimmsError(f"the frame rate must be a number such as 24 or 29.97 (got {text!r})",
                             field="fps", hint="leave it empty to use the most common rate of the takes") from None
        if not v > 0:
            raise AimmsError(f"the frame rate must be above 0 (got {text!r})", field="fps")
        return v

    def set_option(self, name: str, value) -> None:
        """Set one option as a user would (tests; names as `aimms export` spells them)."""
        item = {"storyboard": self.sb_radio, "missing": self.missing_radio, "section": self.section_combo,
                "fps": self.fps_input, "out": self.out_input, "copy_media": self.copy_input,
                "size": self.size_input, "burn_in": self.burn_check, "rows": self.rows_input,
                "columns": self.cols_input, "paper": self.paper_combo, "orientation": self.orient_radio,
                "pdf_prompts": self.pdf_prompts, "proxies": self.proxies_combo,
                "html_prompts": self.html_prompts}.get(name)
        if name == "format":
            dpg.set_value(self.fmt_combo, self.labels[value])
            self._format_changed(value)
            return
        if item is None:
            raise KeyError(name)
        if name == "storyboard":
            value = STORYBOARD_LABELS[value]
        elif name == "missing":
            value = MISSING_LABELS[value]
        elif name == "section":
            value = value or ALL_SECTIONS
        elif name in ("out", "copy_media", "fps", "size"):
            value = "" if value is None else str(value)
        if name == "copy_media":
            dpg.set_value(self.copy_check, bool(value))
        dpg.set_value(item, value)
        if name in ("storyboard", "missing", "section", "fps"):
            self._options_changed(storyboard=name == "storyboard")

    def _format_changed(self, fmt: str, first: bool = False) -> None:
        from aimms_fast.export import FORMAT_INFO
        old, self.fmt = self.fmt, fmt
        info = FORMAT_INFO[fmt]
        dpg.set_value(self.fmt_help, ("writes a folder" if info.folder else f"writes {info.suffix}"))
        for key, g in self.groups.items():   # the form row holding the group: its name goes too
            dpg.configure_item(dpg.get_item_parent(g), show=(fmt in EDITOR_FORMATS) if key == "editor" else key == fmt)
        self._retarget(old, fmt, first)
        if first:
            self.refresh()

    def _retarget(self, old: str, new: str, first: bool) -> None:
        """Keep the typed path, but give it the new format's suffix (or name for a folder) when it
        still has the default shape."""
        cur = dpg.get_value(self.out_input).strip()
        if first or not cur or Path(cur) == default_out(self.project, old, self.storyboard):
            dpg.set_value(self.out_input, str(default_out(self.project, new, self.storyboard)))
        else:
            from aimms_fast.export import FORMAT_INFO
            p, info = Path(cur), FORMAT_INFO[new]
            if info.folder:
                p = p.with_suffix("") if p.suffix else p
            elif p.suffix.lower() != info.suffix:
                p = p.with_suffix(info.suffix)
            dpg.set_value(self.out_input, str(p))
        if not dpg.get_value(self.copy_input).strip() or first:
            out = Path(dpg.get_value(self.out_input))
            dpg.set_value(self.copy_input, str(out.parent / f"{out.stem}_media"))

    def _options_changed(self, storyboard: bool = False) -> None:
        if storyboard:
            cur = Path(dpg.get_value(self.out_input).strip() or ".")
            other = "image" if self.storyboard == "video" else "video"
            if cur == default_out(self.project, self.fmt, other):
                dpg.set_value(self.out_input, str(default_out(self.project, self.fmt, self.storyboard)))
        self.refresh()

    def _browse(self, target, keep_name: bool) -> None:
        cur = Path(dpg.get_value(target).strip() or str(default_out(self.project, self.fmt, self.storyboard)))
        start = cur.parent if keep_name else cur
        while not start.is_dir() and start != start.parent:
            start = start.parent

        def chosen(folder: Path) -> None:
            dpg.set_value(target, str(folder / cur.name) if keep_name else str(folder))
        self.app.dialogs.pick_folder("Export into this folder" if keep_name else "Copy the media into",
                                     chosen, start=start)

    # -- preview -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Rebuild the cut and the preview from the options (UI thread, UI connection)."""
        from aimms_fast.export.timeline import build_cut
        self.error = None
        try:
            self.cut = build_cut(self.project, storyboard=self.storyboard, section=self.section,
                                 missing=self.missing, fps=self.fps())
        except AimmsError as e:
            self.cut, self.error = None, str(e)
        self.rows = preview_rows(self.cut) if self.cut is not None else []
        self.notes = ordered_notes(self.cut.report) if self.cut is not None else []
        dpg.delete_item(self.table, children_only=True, slot=1)
        for r in self.rows[:PREVIEW_ROWS_SHOWN]:
            with dpg.table_row(parent=self.table):
                for i, cell in enumerate(r.cells()):
                    if i == 4 and r.kind in ("gap", "title"):
                        T.text(self.app, 0, cell, "warning")
                    else:
                        dpg.add_text(cell)
        if len(self.rows) > PREVIEW_ROWS_SHOWN:
            with dpg.table_row(parent=self.table):
                T.text(self.app, 0, "…", "dim")
                T.text(self.app, 0, f"and {len(self.rows) - PREVIEW_ROWS_SHOWN} more clips", "dim")
        if self.cut is not None and self.cut.fps:
            dpg.configure_item(self.fps_input, hint=f"auto ({self.cut.fps:g})")
        dpg.set_value(self.summary_text, f"Preview: {summary(self.cut)}" if self.cut is not None
                      else "Preview: nothing to export with these options")
        dpg.delete_item(self.notes_box, children_only=True)
        if self.error:
            T.text(self.app, self.notes_box, self.error, "error", wrap=0)
        for n in self.notes:
            T.text(self.app, self.notes_box, n, _note_role(n), wrap=0)
        dpg.configure_item(self.export_button, enabled=self.cut is not None and bool(self.cut.clips))

    # -- export ------------------------------------------------------------------------------------
    def options(self):
        """(format, out path, ExportOptions) from the dialog; AimmsError names a bad field."""
        from aimms_fast.export import ExportOptions
        out_text = dpg.get_value(self.out_input).strip()
        if not out_text:
            raise AimmsError("choose where to save the export", field="out",
                             hint="type a path in 'Save to' or press Browse…")
        out = Path(out_text).expanduser()
        extra: dict = {}
        if self.fmt == "animatic":
            size = dpg.get_value(self.size_input).strip()
            if size:
                if not re.fullmatch(r"\s*\d+\s*[xX]\s*\d+\s*", size):
                    raise AimmsError(f"the animatic size must look like 1280x720 (got {size!r})", field="size",
                                     hint="leave it empty for the most common size of the takes")
                extra["size"] = size.replace(" ", "")
            extra["burn_in"] = bool(dpg.get_value(self.burn_check))
        elif self.fmt == "pdf":
            extra.update(rows=int(dpg.get_value(self.rows_input)), columns=int(dpg.get_value(self.cols_input)),
                         paper=dpg.get_value(self.paper_combo), orientation=dpg.get_value(self.orient_radio),
                         prompts=bool(dpg.get_value(self.pdf_prompts)))
        elif self.fmt == "html":
            extra.update(proxies=dpg.get_value(self.proxies_combo), prompts=bool(dpg.get_value(self.html_prompts)))
        copy = None
        if self.fmt in EDITOR_FORMATS and dpg.get_value(self.copy_check):
            text = dpg.get_value(self.copy_input).strip()
            if not text:
                raise AimmsError("choose the handoff folder to copy the media into", field="copy_media")
            copy = Path(text).expanduser()
        opts = ExportOptions(storyboard=self.storyboard, section=self.section, missing=self.missing,
                             fps=self.fps(), copy_media=copy, extra=extra)
        return self.fmt, out, opts

    def export(self, *, confirm_replace: bool = True):
        """Start the export job (asks first when it would replace a file). Returns the Job, or None."""
        try:
            fmt, out, opts = self.options()
        except AimmsError as e:
            self.app.show_error("Cannot export yet", e)
            return None
        if confirm_replace and out.is_file():
            self.app.dialogs.confirm("Replace the file?", f"{out} exists. Replace it with this export?",
                                     lambda: self.export(confirm_replace=False), yes="Replace")
            return None
        return self._start(fmt, out, opts)

    def _start(self, fmt: str, out: Path, opts):
        from aimms_fast.export import export

        def work(progress, cancel, project):
            o = dataclasses.replace(opts, progress=progress, cancel=cancel)
            try:
                return export(project, fmt, out, o)
            except AimmsError as e:
                # The writers raise AimmsError("cancelled"); the app's job runner knows Cancelled
                # (it then says "cancelled, nothing changed" instead of showing an error).
                if cancel.is_set() and not isinstance(e, Cancelled):
                    raise Cancelled(f"export {fmt} cancelled; no file was written") from e
                raise
        dpg.set_value(self.status_text, "")
        dpg.configure_item(self.open_button, show=False)
        self.job = self.app.run_job(work, title=f"Export {FORMAT_TITLES.get(fmt, fmt)}",
                                    label=f"Writing {out.name} ({len(self.cut.clips) if self.cut else 0} clips)…",
                                    on_done=self._done, mutating=False)
        if self.job is not None:
            _last_folder[str(self._project.root)] = out.parent
        return self.job

    def _done(self, result) -> None:
        self.result = result
        self.app.toast(f"exported {result.path.name}: {result.clips} clips", seconds=6)
        if not dpg.does_item_exist(self.win):
            return
        dpg.set_value(self.status_text, f"Wrote {result.path}")
        dpg.configure_item(self.open_button, show=True)
        dpg.delete_item(self.notes_box, children_only=True)
        T.text(self.app, self.notes_box, f"Wrote {result.path} ({result.format}, {result.clips} clips"
               + (f", {len(result.files)} more file(s)" if result.files else "") + ")", "heading", wrap=0)
        for n in ordered_notes(result.notes):
            T.text(self.app, self.notes_box, n, _note_role(n), wrap=0)

    def _open_folder(self) -> None:
        if self.result is not None:
            p = self.result.path
            self.app.open_folder(p if p.is_dir() else p.parent)

    def close(self) -> None:
        self.app.dialogs.close(self.win)


def open_export_dialog(app) -> ExportDialog:
    """File > Export… (UI thread)."""
    global last_opened
    last_opened = ExportDialog(app)
    return last_opened


last_opened: ExportDialog | None = None   # the newest dialog (tests and the tour reach it here)
