"""The screenshot tour (`aimms demo PATH --screenshots DIR`) as a scenario: it runs the real tour and
records, at the moment each screenshot is taken, where the pictures of the review windows are (so
the test can read those pixels) and what the windows say (exact frames, star, Edit menu label, the
Assets page's cards and the 3D viewer's state)."""
from __future__ import annotations

from pathlib import Path

from tests.ui.scenarios import scenario


def _facts(app) -> dict:
    """What is on screen now: the newest review window's picture rectangles and state."""
    from aimms_fast.ui.compare import CompareWindow
    from aimms_fast.ui.cutpoints import CutPointsWindow
    from aimms_fast.ops import assets as OA
    from aimms_fast.ui.menus import edit_labels
    from aimms_fast.ui.model_viewer import ModelViewerWindow
    from aimms_fast.ui.player import Player
    from aimms_fast.ui.tournament import TournamentWindow
    w = next((w for w in reversed(app.windows) if w.alive and w.key_context), None)
    f: dict = {"window": w.key_context if w is not None else None,
               "focused": getattr(app.focused_window(), "key_context", None) if not app.dialogs.any_open else None,
               "edit": list(edit_labels(app)), "page": app.current_page.name if app.current_page else None}
    if isinstance(w, Player):
        tr = w.transport
        f.update(kind=w.shown_kind, index=w.shown_index, at=tr.index if tr else None,
                 inout=[tr.in_index, tr.out_index] if tr else None, pictures=[list(w.view.picture_rect(0))])
    elif isinstance(w, CompareWindow):
        f.update(mode=w.mode, settled=w.settled(), panes=len(w.panes),
                 pictures=[list(r) for _, r in w.picture_rects()], shown=list(w.panes.shown))
    elif isinstance(w, TournamentWindow):
        k = w.starred_index
        f.update(starred=k, takes=len(w.takes), star_rect=list(w.live.pane_rect(k - 1)) if k else None,
                 pictures=[list(w.live.picture_rect(i)) for i in range(len(w.takes))],
                 starred_take=w.takes[k - 1].take_id if k else None)
    elif isinstance(w, CutPointsWindow):
        f.update(pictures=[list(w.live.picture_rect(k)) for k in range(2) if w.streams[k] is not None],
                 shown=list(w.shown), indices=list(w.indices), gap=w.cut.gap if w.cut else None)
    elif isinstance(w, ModelViewerWindow):
        vp = w.viewport
        f.update(model=vp.model is not None, error=vp.error, renders=vp.renders, fast=vp._fast,
                 dirty=vp._dirty, textured=bool(vp.model and vp.model.stats.textured),
                 pictures=[list(vp.view.picture_rect(0))], yaw_pitch=[vp.camera.yaw, vp.camera.pitch])
    elif w is not None and w.key_context == "shot" and getattr(w, "assets", None) is not None:
        f.update(assets=[a.name for a in w.assets.rows],
                 asset_pictures=[w.assets.shows_picture(k) for k in range(len(w.assets.rows))])
    elif w is None and f["page"] == "assets":
        page = app.current_page
        g = page.grid
        lo, hi = g._range
        f.update(cards=len(g.cards), selected=g.selected,
                 media=[OA.media_kind(a.file_path) for a in page.rows],
                 resident=[bool(c.rel) and app.textures.resident(c.rel) for c in g.cards],
                 posters=[list(g.poster_rect(i)) for i in range(lo, min(hi, len(g.cards)))], first=lo,
                 panel_model=page.viewport is not None and page.viewport.model is not None)
    menu = getattr(app, "_context_menu", None)
    if menu is not None and menu.is_open:
        f["menu"] = menu.labels
    return f


@scenario
def tour_review_walk(project, out, args):
    """Run the tour on a demo project; per screenshot, the facts above."""
    from aimms_fast.ui import app as appmod
    from aimms_fast.ui import tour
    seen: dict = {}
    real = appmod.App.screenshot

    def spy(self, path):
        if self.project is not None:
            seen[Path(path).name] = _facts(self)
        return real(self, path)
    appmod.App.screenshot = spy
    paths = tour.run_tour(Path(project), out / "tour")
    return {"paths": [str(p) for p in paths], "seen": seen}
