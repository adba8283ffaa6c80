"""`aimms demo`: a real project made through the ops, with real clips and ComfyUI-style PNGs."""
from __future__ import annotations

import json
import sys
import types
from collections import Counter
from pathlib import Path

import av
import orjson
import pytest
from click.testing import CliRunner
from PIL import Image

from aimms_fast.cli import cli
from aimms_fast.demo import builder, clips, script
from aimms_fast.demo.workflows import Generation, api_prompt, png_chunks, ui_workflow, vhs_comment
from aimms_fast.project import Project

CORE_NODES = {"CheckpointLoaderSimple", "CLIPTextEncode", "KSampler", "EmptyLatentImage", "VAEDecode"}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "my demo"   # a space in the path on purpose
    r = run("demo", path, "--shots", 4, "--takes", 12, "--seed", 5, "--json")
    assert r.exit_code == 0, r.output
    return path, orjson.loads(r.stdout)


def rows(path: Path, sql: str, *args) -> list[dict]:
    with Project.open(path, readonly=True) as p:
        cur = p.conn.execute(sql, args)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


def takes(path: Path) -> list[dict]:
    return rows(path, "SELECT t.*, f.placeholder, f.companion_of, f.take_number, f.storyboard "
                      "FROM takes t JOIN fast_takes f USING (take_id) ORDER BY t.shot_id, t.file_path")


def keyframe_indices(path: Path) -> tuple[list[int], int]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        pts = sorted((p.pts, p.is_keyframe) for p in c.demux(s) if p.pts is not None)
    return [i for i, (_, key) in enumerate(pts) if key], len(pts)


def check_graph(prompt: dict, workflow: dict, *, output: str) -> dict[str, dict]:
    """The API graph and the UI graph describe the same, well-linked graph; returns nodes by type."""
    types_ = {n["class_type"] for n in prompt.values()}
    assert CORE_NODES | {output} <= types_
    for node in prompt.values():
        for v in node["inputs"].values():
            if isinstance(v, list):
                assert v[0] in prompt, f"link to missing node {v}"
    assert {str(n["id"]) for n in workflow["nodes"]} == set(prompt)
    by_id = {n["id"]: n for n in workflow["nodes"]}
    for link_id, src, src_slot, dst, dst_slot, typ in workflow["links"]:
        assert by_id[src]["outputs"][src_slot]["type"] == typ
        assert link_id in by_id[src]["outputs"][src_slot]["links"]
        assert by_id[dst]["inputs"][dst_slot]["link"] == link_id
    assert workflow["last_link_id"] == len(workflow["links"])
    ks = next(n for n in prompt.values() if n["class_type"] == "KSampler")["inputs"]
    assert {"seed", "steps", "cfg", "sampler_name", "scheduler"} <= set(ks)
    pos, neg = prompt[ks["positive"][0]], prompt[ks["negative"][0]]
    assert pos["class_type"] == neg["class_type"] == "CLIPTextEncode"
    return {"positive": pos["inputs"]["text"], "negative": neg["inputs"]["text"],
            "loras": [n["inputs"]["lora_name"] for n in prompt.values() if n["class_type"] == "LoraLoader"]}


def test_build_report_and_project_shape(demo):
    path, data = demo
    assert data["built"] is True and data["shots"] == 4
    assert data["image_takes"] + data["video_takes"] == 12
    assert data["missing_workflows"] >= 1 and data["placeholders"] >= 2 and data["assets"] == 4
    assert data["sections"] == script.section_names(4)
    shots = rows(path, "SELECT * FROM shots ORDER BY order_number")
    assert [s["order_number"] for s in shots] == [1, 2, 3, 4]
    assert [s["shot_name"] for s in shots] == [r["shot_name"] for r in script.shot_rows(4, 5)]
    for s in shots:
        assert s["section"].startswith("Act ") and s["image_prompt"] and s["video_prompt"] and s["description"]
        parts = s["shot_name"].split("_")
        assert parts[0] in ("INT", "EXT") and parts[-1] == f"{s['order_number'] * 10:03d}"
    mapping = json.loads((path / "data" / "shot_name_mapping.json").read_text())
    assert mapping == {str(s["shot_id"]): s["shot_name"] for s in shots}


def test_every_take_points_at_a_real_file(demo):
    path, _ = demo
    all_takes = takes(path)
    on_disk = {p.relative_to(path).as_posix() for p in (path / "media").rglob("*") if p.is_file()}
    referenced = {t["file_path"] for t in all_takes} | {a["file_path"] for a in rows(path, "SELECT * FROM assets")}
    assert referenced == on_disk, "every media file is a take or an asset, and every row has its file"
    for t in all_takes:
        f = path / t["file_path"]
        name = f.name
        assert name.startswith("base_" if t["storyboard"] == "image" else "video_")
        assert t["file_path"] == f"media/{t['shot_id']}/{name}"
        assert (f.stat().st_size == 0) == bool(t["placeholder"])
    placeholder_shots = {t["shot_id"] for t in all_takes if t["placeholder"]}
    assert placeholder_shots, "some shots keep AIMMS's placeholder takes"


def test_clips_decode_with_their_gop(demo):
    path, _ = demo
    videos = [t for t in takes(path) if t["take_type"] == "final_video" and not t["placeholder"]]
    broken = [t for t in videos if (path / t["file_path"]).read_bytes().startswith(b"This is not a video")]
    assert len(broken) == 1 and broken[0]["starred"] == 0
    with pytest.raises(av.error.InvalidDataError):
        av.open(str(path / broken[0]["file_path"]))
    comments = 0
    for t in videos:
        if t in broken:
            continue
        f = path / t["file_path"]
        keys, n = keyframe_indices(f)
        assert n in (48, 72, 96)                            # 2, 3 or 4 s at 24 fps
        gop = 24 if len(keys) > 1 else 250
        assert keys == list(range(0, n, gop)), f"{f}: keyframes {keys}"
        with av.open(str(f)) as c:
            s = c.streams.video[0]
            assert s.codec_context.name == "h264" and (s.width, s.height) == clips.DEFAULT_SIZE
            frames = [fr.to_ndarray(format="rgb24") for fr in c.decode(s)]
            comment = c.metadata.get("comment")
        assert len(frames) == n and (frames[0] != frames[n // 2]).any(), "the content moves"
        if comment:
            comments += 1
            meta = json.loads(comment)
            prompt = json.loads(meta["prompt"]) if isinstance(meta["prompt"], str) else meta["prompt"]
            check_graph(prompt, meta["workflow"], output="VHS_VideoCombine")
    assert comments >= 1, "some clips carry VideoHelperSuite's comment metadata"


def test_pngs_carry_comfyui_prompt_and_workflow(demo):
    path, _ = demo
    shots = {s["shot_id"]: s for s in rows(path, "SELECT * FROM shots")}
    pngs = [t for t in takes(path) if t["take_type"] in ("base_image", "video_workflow") and not t["placeholder"]]
    assert {t["take_type"] for t in pngs} == {"base_image", "video_workflow"}
    for t in pngs:
        with Image.open(path / t["file_path"]) as im:
            text = dict(im.text)
            assert im.size == clips.DEFAULT_SIZE
        video = t["take_type"] == "video_workflow"
        g = check_graph(json.loads(text["prompt"]), json.loads(text["workflow"]),
                        output="VHS_VideoCombine" if video else "SaveImage")
        shot = shots[t["shot_id"]]
        assert g["positive"] == shot["video_prompt" if video else "image_prompt"]
        assert g["negative"] == shot["video_negative" if video else "image_negative"]
        want = [shot[k].split(":")[0] for k in ("lora_1", "lora_2", "lora_3") if shot[k]]
        assert sorted(g["loras"]) == sorted(want)
    # Companions: linked to their video, same take number.
    by_id = {t["take_id"]: t for t in takes(path)}
    for t in pngs:
        if t["take_type"] == "video_workflow":
            v = by_id[t["companion_of"]]
            assert v["take_type"] == "final_video" and v["take_number"] == t["take_number"]


def test_stars_are_valid(demo):
    path, data = demo
    all_takes = takes(path)
    assert data["starred_videos"] >= 1 and data["starred_images"] >= 1
    per_shot_video = Counter(t["shot_id"] for t in all_takes if t["take_type"] == "final_video" and t["starred"])
    assert all(c == 1 for c in per_shot_video.values())
    for t in all_takes:
        if t["starred"]:
            assert not t["placeholder"] and t["take_type"] in ("base_image", "final_video")
            assert t["starred"] == 1 or (t["take_type"] == "base_image" and t["starred"] in (2, 3))
    slots = Counter((t["shot_id"], t["starred"]) for t in all_takes if t["take_type"] == "base_image" and t["starred"])
    assert all(c == 1 for c in slots.values()), "each reference slot belongs to one image per shot"


def test_assets(demo):
    path, _ = demo
    assets = rows(path, "SELECT * FROM assets ORDER BY asset_type, asset_name")
    assert [a["asset_type"] for a in assets] == ["characters", "characters", "locations", "other"]
    for a in assets:
        assert a["id_key"].startswith("asset_") and len(a["id_key"]) == len("asset_") + 36
        assert a["file_path"].startswith(f"media/{a['asset_type']}/")
        assert (path / a["file_path"]).stat().st_size > 0
    glb = path / assets[-1]["file_path"]
    assert glb.suffix == ".glb" and glb.read_bytes()[:4] == b"glTF"


def test_a_fresh_demo_has_nothing_to_undo(demo, tmp_path):
    """How the builder made the demo is not the user's to undo: `aimms undo` (and Ctrl+Z) in a new
    demo changes nothing (it used to take back the builder's last star); the user's own first
    change is then the one undone."""
    import shutil
    path = tmp_path / "copy"
    shutil.copytree(demo[0], path)
    before = takes(path)
    r = run("undo", path, "--json")
    assert r.exit_code == 0, r.output
    assert orjson.loads(r.stdout) == {"done": None, "next_undo": None, "next_redo": None}
    assert takes(path) == before
    unstarred = next(t for t in before if t["take_type"] == "final_video" and not t["placeholder"]
                     and not t["starred"] and not (path / t["file_path"]).read_bytes().startswith(b"This is not"))
    r = run("star", path, unstarred["take_id"], "--json")
    assert r.exit_code == 0, r.output
    r = run("undo", path, "--json")
    assert r.exit_code == 0, r.output
    assert orjson.loads(r.stdout)["done"]["label"].startswith("Starred take")
    assert takes(path) == before


def test_reusing_a_demo_does_not_rebuild(demo):
    path, first = demo
    before = {t["take_id"] for t in takes(path)}
    mtimes = {p: p.stat().st_mtime_ns for p in (path / "media").rglob("*") if p.is_file()}
    r = CliRunner().invoke(cli, ["demo", str(path), "--shots", "9", "--json"])
    assert r.exit_code == 0, r.output
    data = orjson.loads(r.stdout)
    assert data["built"] is False and data["shots"] == 4
    assert "ignored" in r.stderr
    assert {t["take_id"] for t in takes(path)} == before
    assert {p: p.stat().st_mtime_ns for p in (path / "media").rglob("*") if p.is_file()} == mtimes
    r = run("demo", path)
    assert r.exit_code == 0 and "reusing" in r.stdout


def test_never_touches_a_real_project_or_a_full_folder(tmp_path):
    Project.create(tmp_path / "real", name="Mine").close()
    r = CliRunner().invoke(cli, ["demo", str(tmp_path / "real")])
    assert r.exit_code == 1 and "not a finished demo build" in r.stderr
    assert rows(tmp_path / "real", "SELECT COUNT(*) AS n FROM shots")[0]["n"] == 0
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    r = CliRunner().invoke(cli, ["demo", str(tmp_path / "full"), "--json"])
    assert r.exit_code == 1 and "not empty" in orjson.loads(r.stdout)["error"]
    r = CliRunner().invoke(cli, ["demo", str(tmp_path / "x"), "--shots", "0"])
    assert r.exit_code == 2


def test_screenshots_without_a_viewer_fail_clearly(demo, monkeypatch):
    path, _ = demo
    monkeypatch.setitem(sys.modules, "aimms_fast.ui.tour", None)   # import of it now fails
    r = CliRunner().invoke(cli, ["demo", str(path), "--screenshots", str(path.parent / "shots")])
    assert r.exit_code == 1
    assert "viewer is not available" in r.stderr and "Traceback" not in r.output


def test_screenshots_call_the_tour_on_a_closed_project(demo, monkeypatch, tmp_path):
    path, _ = demo
    seen = {}

    def run_tour(project_path: Path, out_dir: Path):
        with Project.open(project_path) as p:      # the demo command has let go of the project
            seen["readonly"] = p.readonly
        shot = out_dir / "01_shots.png"
        Image.new("RGB", (8, 8)).save(shot)
        return [shot]

    monkeypatch.setitem(sys.modules, "aimms_fast.ui.tour", types.SimpleNamespace(run_tour=run_tour))
    r = CliRunner().invoke(cli, ["demo", str(path), "--screenshots", str(tmp_path / "shots"), "--json"])
    assert r.exit_code == 0, r.output
    assert orjson.loads(r.stdout)["screenshots"] == [str(tmp_path / "shots" / "01_shots.png")]
    assert seen == {"readonly": False}

    def broken_tour(project_path, out_dir):
        raise RuntimeError("no GL context")
    monkeypatch.setitem(sys.modules, "aimms_fast.ui.tour", types.SimpleNamespace(run_tour=broken_tour))
    r = CliRunner().invoke(cli, ["demo", str(path), "--screenshots", str(tmp_path / "shots")])
    assert r.exit_code == 1 and "screenshot tour failed: RuntimeError: no GL context" in r.stderr


def test_large_builds_reuse_a_pool_of_clips(tmp_path, monkeypatch):
    monkeypatch.setattr(builder, "UNIQUE_LIMIT", 4)
    monkeypatch.setattr(builder, "POOL_SIZE", 3)
    steps = []
    r = builder.build_demo(tmp_path / "pool", builder.DemoSpec(shots=3, takes=10, size=(160, 90)),
                           progress=lambda done, total: steps.append((done, total)))
    assert r.pooled and r.image_takes + r.video_takes == 10
    assert steps[-1][0] == steps[-1][1] and [d for d, _ in steps] == sorted(d for d, _ in steps)
    vids = [t for t in takes(tmp_path / "pool") if t["take_type"] == "final_video" and not t["placeholder"]]
    contents = Counter((tmp_path / "pool" / t["file_path"]).read_bytes() for t in vids)
    assert len(contents) <= 3 + 1, "3 pooled clips (+ the broken file) reused by copy"
    assert any(c > 1 for c in contents.values())


def test_make_clip_gop_and_comment(tmp_path):
    g = Generation("a fox in snow", "blurry", seed=7, loras=[("a.safetensors", 0.5), ("b.safetensors", 1.0)],
                   frames=260)
    f = clips.make_clip(tmp_path / "c.mp4", clips.ClipSpec("label", seconds=260 / 24, size=(160, 90), gop=250,
                                                           comment=vhs_comment(g, prompt_as_string=False)))
    assert keyframe_indices(f) == ([0, 250], 260)
    with av.open(str(f)) as c:
        meta = json.loads(c.metadata["comment"])
    out = check_graph(meta["prompt"], meta["workflow"], output="VHS_VideoCombine")
    assert out["loras"] == ["a.safetensors", "b.safetensors"] and out["positive"] == "a fox in snow"
    # LoRAs chain: checkpoint -> lora a -> lora b -> text encoders and sampler.
    p = api_prompt(g)
    loras = {n["inputs"]["lora_name"]: n for n in p.values() if n["class_type"] == "LoraLoader"}
    assert loras["b.safetensors"]["inputs"]["model"][0] == next(
        k for k, n in p.items() if n.get("inputs", {}).get("lora_name") == "a.safetensors")
    assert png_chunks(g)["workflow"] == json.dumps(ui_workflow(g))


def test_script_is_deterministic():
    assert script.shot_rows(30, 3) == script.shot_rows(30, 3)
    assert script.shot_rows(30, 3) != script.shot_rows(30, 4)
    assert len(script.section_names(600)) == 12 and script.section_names(10)[0] == "Act 1: The Offer"
