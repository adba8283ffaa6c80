"""Assets page and 3D viewer (issue 8), checked on screenshot pixels: posters on the asset cards
(a GLB's rendered thumbnail too), the type filter, a real desktop drop, assets in shot windows,
the Shots page's asset filter; the viewer's orbit/zoom change the picture and F frames the model."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REALDATA
from tests.ui.conftest import make_image, run_scenario


def _asset_project(tmp_path, broken=False):
    from aimms_fast.ops import assets as OA
    from aimms_fast.ops.shots import add_shot
    from aimms_fast.project import Project
    src = tmp_path / "src"
    with Project.create(tmp_path / "proj", name="Assets") as p:
        for n in (10, 20, 30, 40):
            add_shot(p, shot_name=f"SHOT_{n:03d}")
        OA.add_assets(p, [make_image(src / "maya.png", (320, 320), (220, 40, 40))], kind="characters",
                      name="Maya", tags="hero")
        OA.add_assets(p, [make_image(src / "theo.png", (320, 320), (40, 200, 60))], kind="characters", name="Theo")
        OA.add_assets(p, [make_image(src / "office.png", (480, 270), (40, 60, 220))], kind="locations",
                      name="Office")
        OA.add_assets(p, [REALDATA / "3d" / "gltf" / "Duck.glb"], kind="other", name="Duck")
        if broken:   # a fuzzed FBX: the loader refuses it with a reason (child process, never a crash)
            OA.add_assets(p, [REALDATA / "3d" / "fbx" / "ufbx__fuzz_0741.fbx"], kind="other", name="Broken")
        root = p.root
    return root


@pytest.fixture
def asset_project(tmp_path):
    return _asset_project(tmp_path)


def _crop(path, rect):
    img = np.asarray(Image.open(path).convert("RGB")).astype(int)
    x0, y0, x1, y1 = (int(round(v)) for v in rect)
    return img[y0 + 2:y1 - 2, x0 + 2:x1 - 2]


def test_assets_page_grid_filter_drop_and_shots(tmp_path):
    drop = make_image(tmp_path / "drop" / "rooftop.png", (300, 200), (240, 200, 30))
    pick = tmp_path / "pick"
    pick.mkdir()
    shutil.copyfile(REALDATA / "3d" / "gltf" / "Box.glb", pick / "Box.glb")
    (pick / "readme.txt").write_text("not an asset")
    r = run_scenario("assets_page", tmp_path, project=_asset_project(tmp_path, broken=True),
                     args={"drop": [str(drop)], "dialog_dir": str(pick)})
    assert r["errors"] == []
    assert r["titles"] == ["Maya", "Theo", "Office", "Broken", "Duck"]   # characters, locations, other
    assert r["badges"][3] == ["loaderror", "model"] and "ufbx__fuzz_0741.fbx" in r["broken_tip"]
    assert r["badges"][4] == ["model"]
    del r["rects"][3]
    assert r["resident"] == [True, True, True, False, True], "every card shows its poster (a GLB its rendered thumbnail)"
    # the posters are the assets' own colours; the duck's thumbnail is a lit yellow model, not blank
    for i, colour in enumerate([(220, 40, 40), (40, 200, 60), (40, 60, 220)]):
        px = _crop(r["grid"], r["rects"][i])
        assert np.abs(px - colour).sum(axis=2).__lt__(40).mean() > 0.3, f"card {i} does not show its image"
    duck = _crop(r["grid"], r["rects"][3])
    yellow = (duck[..., 0] > 150) & (duck[..., 1] > 110) & (duck[..., 2] < 90)
    assert yellow.mean() > 0.05, "the GLB card shows no rendered duck"
    assert r["locations"] == ["Office"] and r["count_text"] == "1 of 5 assets"
    assert r["search_hero"] == ["Maya"]
    # the dropped file became a location asset (the "as" type)
    assert len(r["dropped"]) == 1 and len(r["dropped"][0]) == 1
    assert r["drop_kind_filter"] is None and "rooftop" in r["after_drop_titles"]   # "All" shows it
    # Import… lists only asset files; the picked GLB is an "other" asset with the 3D badge
    assert r["dialog_names"] == ["Box.glb"]
    assert r["import_job"] == ["Import assets"]                      # imported in a job (progress dialog), not on the UI thread
    i = r["after_dialog_titles"].index("Box")
    assert r["after_dialog_badges"][i] == ["model"]
    assert "Box" not in r["after_undo_titles"] and "rooftop" in r["after_undo_titles"]   # Ctrl+Z: one import
    # assets <-> shots
    assert r["assigned"] == 3 and r["panel_shots"].startswith("Used in 3 shots")
    assert len(r["strips"]) == 3
    for s in r["strips"]:
        assert s["names"] == ["Maya"] and s["picture"] is True
    px = _crop(r["shot_window"], r["strips"][0]["rect"])
    assert np.abs(px - (220, 40, 40)).sum(axis=2).__lt__(40).mean() > 0.3, "shot window shows Maya's picture"
    assert r["shots_with_maya"] == ["SHOT_010", "SHOT_020", "SHOT_030"] and r["shots_all"] == 4
    # keys: S, F2, Delete (asks, then the trash), Ctrl+Z; the right-click menu
    assert r["theo_starred"] == 1
    assert r["theo_shots"] == ["SHOT_040"] and r["theo_shots_after_undo"] == ["SHOT_040"]   # A: the Shots page's selection
    assert r["rename_dialog"] == "Rename asset" and r["delete_dialog"] == "Delete asset"
    assert "Theo" not in r["after_delete"] and r["theo_file_after_delete"] is False
    assert "Theo" in r["after_undo_delete"] and r["theo_file_after_undo"] is True
    assert r["menu"] == ["Open 3D viewer", "Star", "Rename…", "Assign to selected shots", "Approve", "Lock",
                         "Reveal in folder", "Copy path", "Delete…"]  # Approve/Lock: issue 12


def _model_mask(path, rect, bg):
    px = _crop(path, rect)
    return np.abs(px - np.array(bg)).sum(axis=2) > 30


def test_viewer_orbit_zoom_and_frame(tmp_path):
    r = run_scenario("assets_viewer", tmp_path, project=_asset_project(tmp_path, broken=True))
    assert r["errors"] == []
    assert r["opened"] == 1 and r["loaded"] is True, r
    assert "vertices" in r["stats"] and "m (x × y × z)" in r["stats"]
    assert r["renders_idle"] == 0, "the viewport rendered while nothing changed"
    open_px, orbit_px, zoom_px = (_crop(r[k], r["pane"]) for k in ("open", "orbit", "zoom"))
    assert abs(r["yaw_change"]) > 20
    assert np.abs(open_px - orbit_px).mean() > 2, "orbiting did not change the picture"
    assert r["zoom_ratio"] < 0.8
    assert np.abs(orbit_px - zoom_px).mean() > 2, "zooming did not change the picture"
    bg = r["background"]
    assert r["grid_on"] is False
    zoomed = _model_mask(r["zoomed_in"], r["pane"], bg)
    fit = _model_mask(r["fit"], r["pane"], bg)
    edge = lambda m: np.concatenate([m[:3].ravel(), m[-3:].ravel(), m[:, :3].ravel(), m[:, -3:].ravel()])  # noqa: E731
    assert edge(zoomed).mean() > 0.2, "zoomed in, the model should run off the edges"
    assert edge(fit).mean() == 0, "after F the whole model is inside the frame"
    assert 0.05 < fit.mean() < 0.9, "after F the model fills a sensible share of the frame"
    assert r["wireframe"] is True
    assert np.abs(_crop(r["fit"], r["pane"]) - _crop(r["wire"], r["pane"])).mean() > 1
    assert r["orbit_frames"] > 10 and r["final_msaa_frame"] is True   # fast frames while dragging, then one MSAA
    print(f"viewport {r['pane_size']}: orbit render+show p50 {r['orbit_ms_p50']:.1f} ms, "
          f"p95 {r['orbit_ms_p95']:.1f} ms over {r['orbit_frames']} frames")
    assert r["closed"] is True
    assert "ufbx__fuzz_0741.fbx" in r["broken_error"] and "loaderror" in r["broken_badges"]


def test_viewer_plays_and_pauses_a_skinned_animation(tmp_path):
    from aimms_fast.ops import assets as OA
    from aimms_fast.project import Project
    with Project.create(tmp_path / "proj", name="Anim") as p:
        OA.add_assets(p, [REALDATA / "3d" / "gltf" / "CesiumMan.glb"], kind="characters", name="CesiumMan")
        root = p.root
    r = run_scenario("assets_animation", tmp_path, project=root)
    assert r["errors"] == [] and r["error"] is None
    assert r["animations"] and r["timeline_shown"] is True
    assert r["playing"] is True and r["time_after_play"] > 0.2
    still, moving = _crop(r["still"], r["pane"]), _crop(r["moving"], r["pane"])
    assert np.abs(still - moving).mean() > 1, "playing did not move the model"
    assert r["paused"] is True and r["renders_while_paused"] == 0
    assert r["scrubbed_time"] == 0.0 and r["slider"] == 0.0
