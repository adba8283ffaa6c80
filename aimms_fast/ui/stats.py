"""Stats page (after the eight AIMMS pages; View > Stats): how far the film has come, in four ImPlot
charts: takes per shot (histogram, images and videos), starred coverage per section (how many shots
have a chosen image / video), storage per section and per kind, and takes added per day.

Every figure comes from store.stats.project_stats, one grouped query (21K takes: ~75 ms CPU), run on
a background thread with its own connection when the page is shown or the project changed while
it was visible; the UI thread only draws. UI thread only (except the job's function)."""
from __future__ import annotations

import dearpygui.dearpygui as dpg

from aimms_fast.store.stats import ProjectStats, histogram, project_stats
from aimms_fast.ui import theme as T
from aimms_fast.ui.page import Page

KIND_LABELS = {"base_image": "images", "final_video": "videos", "video_workflow": "workflow PNGs",
               "audio_vo": "voice-over"}
PLOT_H = 300


def _human(n: int) -> str:
    for unit, div in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= div:
            return f"{n / div:,.1f} {unit}"
    return f"{n} bytes"


def _unit(largest: int) -> tuple[str, int]:
    """MB, or KB for a small project (a bar of 0.0 MB says nothing)."""
    return ("MB", 2**20) if largest >= 2**20 else ("KB", 2**10)


def _short(name: str, n: int = 18) -> str:
    name = name or "(no section)"
    return name if len(name) <= n else name[:n - 1] + "…"


def _compute(project) -> ProjectStats:
    """Worker thread: the stats on a connection of the job's own (never the UI's)."""
    with project.for_job() as own:
        return project_stats(own.conn)


class StatsPage(Page):
    name = "stats"
    title = "Stats"

    def build(self, parent) -> None:
        app = self.app
        self.stats: ProjectStats | None = None
        self._job = None
        self._job_project = None
        self._stale = True
        with dpg.group(parent=parent, horizontal=True):
            dpg.add_button(label="Refresh", callback=lambda: self._start())
            self.summary = T.text(app, 0, "", "text")
        self.note = T.text(app, parent, "", "dim", wrap=1200)
        with dpg.table(parent=parent, header_row=False, policy=dpg.mvTable_SizingStretchSame,
                       borders_innerV=False, scrollY=True, height=-1) as self.grid:
            dpg.add_table_column()
            dpg.add_table_column()
            with dpg.table_row():
                self.p_hist = self._plot("Takes per shot (how many shots have N takes)", "takes", "shots")
                self.p_star = self._plot("Starred coverage per section (% of its shots)", "", "%")
            with dpg.table_row():
                self.p_store = self._plot("Storage per section", "", "MB")
                self.p_kind = self._plot("Storage per kind", "", "MB")
            with dpg.table_row():
                self.p_day = self._plot("Takes added per day (UTC)", "", "takes")
                self.table_cell = dpg.add_group()

    def _plot(self, title: str, xlabel: str, ylabel: str) -> dict:
        with dpg.plot(label=title, height=PLOT_H, width=-1, no_mouse_pos=True) as plot:
            dpg.add_plot_legend(location=dpg.mvPlot_Location_NorthEast)
            x = dpg.add_plot_axis(dpg.mvXAxis, label=xlabel)
            y = dpg.add_plot_axis(dpg.mvYAxis, label=ylabel)
        return {"plot": plot, "x": x, "y": y}

    # -- data ------------------------------------------------------------------------------------
    def on_project(self, project) -> None:
        self.stats = None
        self._stale = True
        self._draw()
        if project is not None and self.visible:
            self._start()

    def on_show(self) -> None:
        if self._stale:
            self._start()

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        self._stale = True
        if self.visible:
            self._start()

    def refresh(self) -> None:
        self._start()

    def _start(self) -> None:
        from aimms_fast.ui.background import BackgroundJob
        if self.project is None or (self._job is not None and not self._job.done):
            return
        self._stale = False
        project = self.project
        dpg.set_value(self.note, "Counting…")
        self._job = BackgroundJob(lambda: _compute(project), name="aimms-stats")
        self._job_project = project

    def tick(self) -> bool:
        job = self._job
        if job is None:
            return False
        if not job.done:
            return True
        self._job = None
        if self._job_project is not self.project:      # opened another project meanwhile: count that
            self.stats = None
            self._start()
            return True
        if self._stale and self.visible:               # changed while counting: count again
            self._start()
        if job.error is not None:
            self.app.show_error("The Stats page could not count the project", job.error)
            dpg.set_value(self.note, "")
            return False
        self.stats = job.result
        self._draw()
        return False

    # -- drawing ---------------------------------------------------------------------------------
    @staticmethod
    def _clear(p: dict) -> None:
        for ax in (p["x"], p["y"]):
            dpg.delete_item(ax, children_only=True, slot=1)
        dpg.reset_axis_ticks(p["x"])

    def _bars(self, p: dict, labels: list[str], series: list[tuple[str, list[float]]],
              top: float | None = None) -> None:
        """Grouped bars at 0..n-1 with `labels` as x ticks (every k-th when there are many)."""
        n = len(labels)
        k = len(series)
        width = 0.8 / max(1, k)
        for i, (name, ys) in enumerate(series):
            xs = [j - 0.4 + width * (i + 0.5) for j in range(n)]
            dpg.add_bar_series(xs, ys, label=name, weight=width, parent=p["y"])
        step = max(1, n // 12)
        if n:
            dpg.set_axis_ticks(p["x"], tuple((labels[j], j) for j in range(0, n, step)))
        # Bars stand on 0 with a little room above; the x range holds every bar whole.
        high = top if top is not None else max([v for _, ys in series for v in ys] or [0])
        dpg.set_axis_limits(p["x"], -0.6, max(1, n) - 0.4)
        dpg.set_axis_limits(p["y"], 0, (high or 1) * 1.08)

    def _draw(self) -> None:
        for p in (self.p_hist, self.p_star, self.p_store, self.p_kind, self.p_day):
            self._clear(p)
        dpg.delete_item(self.table_cell, children_only=True)
        st = self.stats
        if st is None:
            dpg.set_value(self.summary, "")
            dpg.set_value(self.note, "" if self.project is None else "Counting…")
            return
        img, vid = sum(st.image_takes_per_shot), sum(st.video_takes_per_shot)
        starred_v = sum(s.starred_video for s in st.sections)
        dpg.set_value(self.summary, f"{st.shots:,} shots · {img:,} image takes · {vid:,} video takes · "
                                    f"{st.placeholders:,} placeholders · {_human(st.total_bytes)} of media · "
                                    f"{starred_v:,} of {st.shots:,} shots have a starred video")
        dpg.set_value(self.note, f"Sizes of {st.unmeasured_files:,} files are not measured yet (the background "
                                 "scan measures them); they count as 0 MB." if st.unmeasured_files else "")
        # takes per shot: one bar per count (wider bins on big projects), images and videos side by side
        hi, hc = histogram(st.image_takes_per_shot)
        vi, vc = histogram(st.video_takes_per_shot)
        starts = sorted(set(hi) | set(vi))
        himap, vimap = dict(zip(hi, hc)), dict(zip(vi, vc))
        self._bars(self.p_hist, [str(s) for s in starts],
                   [("images", [himap.get(s, 0) for s in starts]), ("videos", [vimap.get(s, 0) for s in starts])])
        secs = st.sections
        labels = [_short(s.section) for s in secs]
        pct = lambda a, b: round(100.0 * a / b, 1) if b else 0.0  # noqa: E731
        self._bars(self.p_star, labels, [("starred image", [pct(s.starred_image, s.shots) for s in secs]),
                                         ("starred video", [pct(s.starred_video, s.shots) for s in secs])], top=100)
        unit, div = _unit(max([s.bytes for s in secs] + list(st.bytes_by_kind.values()) + [0]))
        for p in (self.p_store, self.p_kind):
            dpg.set_item_label(p["y"], unit)
        self._bars(self.p_store, labels, [(unit, [round(s.bytes / div, 1) for s in secs])])
        kinds = [k for k in KIND_LABELS if st.files_by_kind.get(k)] + \
            [k for k in st.bytes_by_kind if k not in KIND_LABELS and st.files_by_kind.get(k)]
        self._bars(self.p_kind, [KIND_LABELS.get(k, k) for k in kinds],
                   [(unit, [round(st.bytes_by_kind.get(k, 0) / div, 1) for k in kinds])])
        self._bars(self.p_day, [d[5:] for d, _ in st.takes_per_day], [("takes", [n for _, n in st.takes_per_day])])
        # the same figures as a table: exact numbers, and readable by a screen reader
        with dpg.table(parent=self.table_cell, header_row=True, row_background=True, borders_innerH=True,
                       policy=dpg.mvTable_SizingStretchProp, height=PLOT_H, scrollY=True):
            for c in ("Section", "Shots", "Starred image", "Starred video", unit):
                dpg.add_table_column(label=c)
            for s in secs:
                with dpg.table_row():
                    dpg.add_text(s.section or "(no section)")
                    dpg.add_text(f"{s.shots:,}")
                    dpg.add_text(f"{s.starred_image:,} ({pct(s.starred_image, s.shots):.0f}%)")
                    dpg.add_text(f"{s.starred_video:,} ({pct(s.starred_video, s.shots):.0f}%)")
                    dpg.add_text(f"{s.bytes / div:,.1f}")
