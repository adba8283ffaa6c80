"""Build a demo project through the real ops: shots via `add_shot`, media via `add_takes`.

Small demos get one clip/image per take with the shot name and take number drawn in. Large ones
(the 600-shot / 21,000-take benchmark project) encode a pool of clips and images once and reuse
them by copy: encoding is what costs time, copying is cheap, and the store sees the same rows.

A finished build leaves a `demo_built` entry in `fast_audit`; a folder holding a project without
it (someone's real project, or a build that was interrupted) is never touched.
"""
from __future__ import annotations

import json
import random
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from aimms_fast.demo import clips, script
from aimms_fast.demo.workflows import Generation, png_chunks, vhs_comment
from aimms_fast.errors import AimmsError, ProjectError
from aimms_fast.ops.shots import add_shot
from aimms_fast.ops.takes import add_takes, star_take
from aimms_fast.project import Project
from aimms_fast.store.db import transaction
from aimms_fast.store.history import clear as clear_history
from aimms_fast.store.shots import shot_ids

Progress = Callable[[int, int], None] | None

TAKES_PER_SHOT = 5        # default when --takes is not given
UNIQUE_LIMIT = 400        # up to this many takes every file is made for its take; above, a pool
POOL_SIZE = 96            # clips (and images) encoded once for large builds
CLIP_SECONDS = (2.0, 3.0, 4.0)
BUILT_ACTION = "demo_built"


@dataclass
class DemoSpec:
    shots: int = 24
    takes: int | None = None  # real takes over both storyboards (no placeholders, no workflow PNGs)
    seed: int = 1
    size: tuple[int, int] = clips.DEFAULT_SIZE

    @property
    def total_takes(self) -> int:
        return self.shots * TAKES_PER_SHOT if self.takes is None else self.takes


@dataclass
class DemoReport:
    path: str
    built: bool                       # False: an existing demo was reused
    shots: int = 0
    image_takes: int = 0
    video_takes: int = 0
    workflow_pngs: int = 0
    missing_workflows: int = 0
    placeholders: int = 0
    starred_videos: int = 0
    starred_images: int = 0
    assets: int = 0
    sections: list[str] = field(default_factory=list)
    pooled: bool = False              # media reused from a pool (large builds)
    spec: dict | None = None
    seconds: float | None = None      # how long the build took (also when reused: from its record)
    phases: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


# -- plan ------------------------------------------------------------------------------------------

@dataclass
class _Video:
    gop: int
    seconds: float
    workflow: bool       # companion PNG given (False: recorded as missing)
    broken: bool = False
    comment: int = 0     # 0 none, 1 VHS comment with prompt as string, 2 with prompt as object


@dataclass
class _ShotPlan:
    fields: dict
    placeholders: bool       # keep AIMMS's placeholder take in each storyboard
    images: int
    videos: list[_Video]


def _split(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to weights that add up to total (largest remainder)."""
    if not weights:
        return []
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)[:total - sum(out)]:
        out[i] += 1
    return out


def _plan(spec: DemoSpec) -> list[_ShotPlan]:
    rng = random.Random(spec.seed)
    rows = script.shot_rows(spec.shots, spec.seed)
    # Every 12th shot (from the 8th) is not generated yet: placeholders only. Every 8th (from the
    # 4th) keeps its placeholders next to real takes, as in AIMMS when takes are added later.
    empty = {i for i in range(spec.shots) if i % 12 == 7}
    keep = {i for i in range(spec.shots) if i % 8 == 3} | empty
    takers = [i for i in range(spec.shots) if i not in empty]
    counts = dict(zip(takers, _split(spec.total_takes, [rng.uniform(0.5, 1.5) for _ in takers])))
    plans = []
    for i, row in enumerate(rows):
        n = counts.get(i, 0)
        n_img = 0 if n == 0 else max(1, min(n - 1, round(n * 0.45))) if n > 1 else 1
        videos = [_Video(gop=250 if rng.random() < 0.25 else 24, seconds=rng.choice(CLIP_SECONDS),
                         workflow=rng.random() >= 0.06, comment=rng.choice([0, 1, 2]))
                  for _ in range(n - n_img)]
        plans.append(_ShotPlan(row, i in keep, n_img, videos))
    vids = [v for p in plans for v in p.videos]
    if len(vids) >= 3:
        # Guarantee the states the viewer must show: one broken file, one missing workflow PNG.
        with_videos = [p for p in plans if p.videos]
        broken = with_videos[min(1, len(with_videos) - 1)].videos[-1]   # not the opening shot
        broken.broken, broken.workflow, broken.comment = True, False, 0
        if all(v.workflow for v in vids if not v.broken):
            next(v for v in vids if not v.broken).workflow = False
    return plans


def _generation(rng: random.Random, fields: dict, *, video_frames: int = 0) -> Generation:
    sampler, scheduler = rng.choice(script.SAMPLERS)
    loras = [(v.split(":")[0], float(v.split(":")[1])) for k in ("lora_1", "lora_2", "lora_3")
             if (v := fields.get(k))]
    return Generation(
        positive=fields["video_prompt" if video_frames else "image_prompt"],
        negative=fields["video_negative" if video_frames else "image_negative"],
        seed=rng.randrange(2 ** 48), steps=rng.choice([20, 25, 30]), cfg=rng.choice([5.0, 6.5, 7.0, 8.0]),
        sampler_name=sampler, scheduler=scheduler, checkpoint=rng.choice(script.CHECKPOINTS),
        loras=loras, frames=video_frames, filename_prefix=f"aimms/{fields['shot_name']}")


# -- media -----------------------------------------------------------------------------------------

class _Media:
    """Makes (or, for large builds, picks from a pool) the files that become takes."""

    def __init__(self, spec: DemoSpec, stage: Path, rng: random.Random, pooled: bool):
        self.spec, self.stage, self.rng, self.pooled = spec, stage, rng, pooled
        self.made = 0
        self._pool_videos: list[tuple[Path, Path]] = []
        self._pool_images: list[Path] = []
        self._next = 0
        self._broken: Path | None = None

    def make_pool(self, progress: Callable[[], None]) -> None:
        fields = script.shot_rows(1, self.spec.seed)[0]
        for k in range(POOL_SIZE):
            v = _Video(gop=250 if k % 4 == 3 else 24, seconds=CLIP_SECONDS[k % 3], workflow=True,
                       comment=k % 3)
            self._pool_videos.append(self._video(f"pool clip {k + 1:02d}/{POOL_SIZE}  GOP {v.gop}",
                                                 fields, v, f"pool_v{k:03d}"))
            progress()
            self._pool_images.append(self._image(f"pool image {k + 1:02d}/{POOL_SIZE}", fields,
                                                 f"pool_i{k:03d}", subtitle=None))
            progress()

    def _video(self, label: str, fields: dict, v: _Video, stem: str) -> tuple[Path, Path]:
        g = _generation(self.rng, fields, video_frames=round(v.seconds * 24))
        cs = clips.ClipSpec(label, seconds=v.seconds, gop=v.gop, size=self.spec.size,
                            seed=self.rng.randrange(2 ** 31),
                            comment=vhs_comment(g, prompt_as_string=v.comment == 1) if v.comment else None)
        clip = clips.make_clip(self.stage / f"{stem}.mp4", cs)
        # Named *_wf.png, not <stem>.png: add_takes would take a same-named PNG along by itself,
        # and some demo takes must have none.
        png = clips.save_png(self.stage / f"{stem}_wf.png", clips.first_frame(cs), png_chunks(g))
        self.made += 1
        return clip, png

    def _image(self, label: str, fields: dict, stem: str, subtitle: str | None) -> Path:
        g = _generation(self.rng, fields)
        img = clips.still(label, seed=self.rng.randrange(2 ** 31), size=self.spec.size, subtitle=subtitle)
        self.made += 1
        return clips.save_png(self.stage / f"{stem}.png", img, png_chunks(g))

    def videos(self, plan: _ShotPlan, first_number: int) -> list[tuple[Path, Path | None]]:
        out = []
        for j, v in enumerate(plan.videos):
            if v.broken:
                self._broken = self._broken or clips.make_broken_video(self.stage / "broken_render.mp4")
                out.append((self._broken, None))
                continue
            if self.pooled:
                clip, png = self._pool_videos[self._next % POOL_SIZE]
                self._next += 1
            else:
                n = first_number + j
                clip, png = self._video(f"{plan.fields['shot_name']} · video {n:02d}", plan.fields, v,
                                        f"{plan.fields['shot_name']}_v{n:02d}")
            out.append((clip, png if v.workflow else None))
        return out

    def images(self, plan: _ShotPlan, first_number: int) -> list[Path]:
        if self.pooled:
            picks = [self._pool_images[(self._next + j) % POOL_SIZE] for j in range(plan.images)]
            self._next += plan.images
            return picks
        return [self._image(f"{plan.fields['shot_name']} · base {first_number + j:02d}", plan.fields,
                            f"{plan.fields['shot_name']}_b{first_number + j:02d}", plan.fields["section"])
                for j in range(plan.images)]


# -- build -----------------------------------------------------------------------------------------

def demo_status(path: Path) -> DemoReport | None:
    """The finished demo at `path`, None if there is no project there.

    Raises if `path` holds a project that is not a finished demo build (never overwrite it).
    """
    path = Path(path)
    if not (path / "data" / "shots.db").exists():
        return None
    not_demo = AimmsError("this folder holds a project that is not a finished demo build "
                          "(another project, or a demo build that was interrupted)", path=path,
                          hint="choose another folder, or delete this one to build the demo again")
    try:
        p = Project.open(path, readonly=True)
    except ProjectError:   # e.g. made by AIMMS and never opened by aimms_fast: not ours either way
        raise not_demo from None
    with p:
        r = p.conn.execute("SELECT detail FROM fast_audit WHERE action=? ORDER BY id DESC LIMIT 1",
                           (BUILT_ACTION,)).fetchone()
        if not r:
            raise not_demo
        built = json.loads(r[0])
        return _counts(p, DemoReport(path=str(p.root), built=False, spec=built.get("spec"),
                                     pooled=bool(built.get("pooled")), seconds=built.get("seconds"),
                                     phases=built.get("phases") or {}))


def _counts(p: Project, report: DemoReport) -> DemoReport:
    one = lambda sql, *a: p.conn.execute(sql, a).fetchone()[0]
    report.shots = one("SELECT COUNT(*) FROM shots")
    report.image_takes = one("SELECT COUNT(*) FROM takes t JOIN fast_takes f USING (take_id) "
                             "WHERE t.take_type='base_image' AND f.placeholder=0")
    report.video_takes = one("SELECT COUNT(*) FROM takes t JOIN fast_takes f USING (take_id) "
                             "WHERE t.take_type='final_video' AND f.placeholder=0")
    report.workflow_pngs = one("SELECT COUNT(*) FROM takes t JOIN fast_takes f USING (take_id) "
                               "WHERE t.take_type='video_workflow' AND f.placeholder=0")
    report.missing_workflows = one(
        "SELECT COUNT(*) FROM takes t JOIN fast_takes f USING (take_id) WHERE t.take_type='final_video' "
        "AND f.placeholder=0 AND NOT EXISTS (SELECT 1 FROM fast_takes c WHERE c.companion_of=t.take_id)")
    report.placeholders = one("SELECT COUNT(*) FROM fast_takes WHERE placeholder=1 AND companion_of IS NULL")
    report.starred_videos = one("SELECT COUNT(*) FROM takes WHERE take_type='final_video' AND starred=1")
    report.starred_images = one("SELECT COUNT(*) FROM takes WHERE take_type='base_image' AND starred>0")
    report.assets = one("SELECT COUNT(*) FROM assets")
    report.sections = [r[0] for r in p.conn.execute(
        "SELECT section FROM shots WHERE section IS NOT NULL GROUP BY section ORDER BY MIN(order_number)")]
    return report


def build_demo(path: Path, spec: DemoSpec | None = None, *, progress: Progress = None) -> DemoReport:
    """Build the demo project at `path` (a new or empty folder), or reuse a finished one there."""
    spec = spec or DemoSpec()
    if spec.shots < 1:
        raise AimmsError("a demo needs at least one shot", field="shots")
    if spec.total_takes < 0:
        raise AimmsError("the number of takes cannot be negative", field="takes")
    existing = demo_status(path)
    if existing is not None:
        return existing
    t0 = time.perf_counter()
    rng = random.Random(spec.seed + 1)
    plans = _plan(spec)
    pooled = spec.total_takes > UNIQUE_LIMIT
    n_media = 2 * POOL_SIZE if pooled else spec.total_takes
    total = n_media + spec.total_takes + 1
    done = 0

    def tick(k: int = 1) -> None:
        nonlocal done
        done += k
        if progress:
            progress(done, total)

    phases = {"media_s": 0.0, "import_s": 0.0, "stars_s": 0.0, "assets_s": 0.0}
    project = Project.create(path, name="AIMMS Demo", author="aimms demo",
                             description=f"Demo storyboard made by `aimms demo` ({spec.shots} shots, "
                                         f"{spec.total_takes} takes, seed {spec.seed})")
    try:
        with tempfile.TemporaryDirectory(prefix="aimms_demo_") as tmp:
            media = _Media(spec, Path(tmp), rng, pooled)
            if pooled:
                t = time.perf_counter()
                media.make_pool(tick)
                phases["media_s"] += time.perf_counter() - t
            for plan in plans:
                _build_shot(project, plan, media, rng, phases, tick)
        t = time.perf_counter()
        _add_assets(project, spec, rng)
        phases["assets_s"] = time.perf_counter() - t
        phases = {k: round(v, 3) for k, v in phases.items()}
        seconds = round(time.perf_counter() - t0, 3)
        with transaction(project.db):
            # A fresh demo has nothing to undo: Ctrl+Z must not take back the builder's last star.
            # (No step was undone, so no file waits in data/trash/history to be cleaned up.)
            clear_history(project.conn)
            project.audit(BUILT_ACTION, json.dumps({"spec": asdict(spec), "pooled": pooled, "phases": phases,
                                                    "seconds": seconds}))
        tick()
        report = _counts(project, DemoReport(path=str(project.root), built=True, pooled=pooled,
                                             spec=asdict(spec), phases=phases))
    finally:
        project.close()
    report.seconds = round(time.perf_counter() - t0, 3)
    return report


def _build_shot(project: Project, plan: _ShotPlan, media: _Media, rng: random.Random,
                phases: dict[str, float], tick: Callable[[int], None]) -> None:
    sid = add_shot(project, placeholders=plan.placeholders, **plan.fields)
    first = 2 if plan.placeholders else 1   # take numbers continue after the placeholder
    t = time.perf_counter()
    made = media.made
    images = media.images(plan, first)
    videos = media.videos(plan, first)
    phases["media_s"] += time.perf_counter() - t
    if not media.pooled:
        tick(media.made - made + sum(1 for v in plan.videos if v.broken))
    t = time.perf_counter()
    image_ids = add_takes(project, sid, images, storyboard="image") if images else []
    tick(len(images))
    video_ids: list[str] = []
    # add_takes gives one companion per source path; takes without a workflow PNG (and the same
    # pooled clip with and without one) go in separate calls, in take order.
    run: list[tuple[Path, Path | None]] = []
    for item in videos + [None]:
        if run and (item is None or (item[1] is None) != (run[0][1] is None)):
            comps = {str(src): png for src, png in run if png is not None}
            video_ids += add_takes(project, sid, [src for src, _ in run], storyboard="video", companions=comps)
            tick(len(run))
            run = []
        if item is not None:
            run.append(item)
    phases["import_s"] += time.perf_counter() - t
    t = time.perf_counter()
    _star(project, plan, rng, image_ids, video_ids)
    phases["stars_s"] += time.perf_counter() - t


def _star(project: Project, plan: _ShotPlan, rng: random.Random, image_ids: list[str],
          video_ids: list[str]) -> None:
    playable = [tid for tid, v in zip(video_ids, plan.videos) if not v.broken]
    if playable and rng.random() < 0.75:
        star_take(project, rng.choice(playable))
    if image_ids and rng.random() < 0.85:
        picks = rng.sample(image_ids, 3) if len(image_ids) >= 3 and rng.random() < 0.5 else [rng.choice(image_ids)]
        for slot, tid in enumerate(picks, start=1):   # first / middle / last frame reference slots
            star_take(project, tid, slot=slot)


# -- assets ----------------------------------------------------------------------------------------

CRATE_AMBER = (214, 140, 52)     # the demo crate's painted planks (tests look for these hues)
CRATE_TEAL = (24, 138, 150)      # its frame and brace


def crate_texture(size: int = 256):
    """The demo prop's texture: amber planks in a teal frame with a diagonal brace (PIL RGB)."""
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (size, size), CRATE_AMBER)
    d = ImageDraw.Draw(img)
    plank = size // 4
    for k in range(4):           # planks differ a little in tone; dark seams between them
        tone = tuple(max(0, min(255, c + (k % 2) * 14 - 7)) for c in CRATE_AMBER)
        d.rectangle((0, k * plank, size, (k + 1) * plank - 1), fill=tone)
        d.line((0, k * plank, size, k * plank), fill=(120, 72, 24), width=3)
    rim = size // 11
    d.line((rim, size - rim, size - rim, rim), fill=CRATE_TEAL, width=rim)
    d.rectangle((0, 0, size - 1, size - 1), outline=CRATE_TEAL, width=rim)
    return img


def crate_glb(path: Path, edge: float = 0.8) -> Path:
    """A textured crate (a cube with the texture on each face) as a GLB, made with trimesh: the
    demo's 3D prop, so the 3D viewer and the model thumbnails show a textured model without any
    sample files next to the package."""
    import numpy as np
    import trimesh
    from trimesh.visual import TextureVisuals
    from trimesh.visual.material import PBRMaterial
    h = edge / 2
    verts, uvs, faces, normals = [], [], [], []
    # (normal axis, sign): each face gets its own four corners so every face shows the whole texture
    for axis in range(3):
        for sign in (-1.0, 1.0):
            u_ax, v_ax = ((2, 1), (0, 2), (0, 1))[axis]      # sides: v is up, so the planks lie flat
            base = len(verts)
            for cu, cv in ((0, 0), (1, 0), (1, 1), (0, 1)):
                p = [0.0, 0.0, 0.0]
                p[axis] = sign * h
                p[u_ax] = (cu * 2 - 1) * h
                p[v_ax] = (cv * 2 - 1) * h
                verts.append(p)
                uvs.append((cu, cv))
            tri = [(0, 1, 2), (0, 2, 3)]
            n = np.cross(np.subtract(verts[base + 1], verts[base]), np.subtract(verts[base + 2], verts[base]))
            if np.dot(n, [sign if a == axis else 0.0 for a in range(3)]) < 0:
                tri = [(0, 2, 1), (0, 3, 2)]          # wind counter-clockwise seen from outside
            faces += [[base + a, base + b, base + c] for a, b, c in tri]
            normals += [[sign if a == axis else 0.0 for a in range(3)]] * 4
    mat = PBRMaterial(name="crate", baseColorTexture=crate_texture(), metallicFactor=0.0, roughnessFactor=0.8)
    mesh = trimesh.Trimesh(vertices=np.array(verts), faces=np.array(faces), process=False,
                           vertex_normals=np.array(normals),
                           visual=TextureVisuals(uv=np.array(uvs, dtype=np.float64), material=mat))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(trimesh.Scene(mesh).export(file_type="glb"))
    return path


def _add_assets(project: Project, spec: DemoSpec, rng: random.Random) -> None:
    """Assets through ops/assets.py (as a user imports them): two characters, a location and a
    textured 3D prop, with tags; Maya starred and assigned to the first three shots, the crate to
    the first shot (the builder's history is cleared afterwards, like the rest of the build)."""
    from aimms_fast.ops import assets as OA
    with tempfile.TemporaryDirectory(prefix="aimms_demo_assets_") as tmp:
        tmp = Path(tmp)
        ids: dict[str, str] = {}
        for kind, name, label, tags in (("characters", "Maya", "MAYA · character sheet", "lead, act 1"),
                                        ("characters", "Theo", "THEO · character sheet", "supporting"),
                                        ("locations", "Office", "INT. OFFICE · location", "interior, day")):
            fields = {"shot_name": name, "image_prompt": f"character/location sheet of {name}, neutral light",
                      "image_negative": script.IMAGE_NEGATIVE}
            src = clips.save_png(tmp / f"{name.lower()}.png",
                                 clips.still(label, seed=rng.randrange(2 ** 31), size=(360, 360)),
                                 png_chunks(_generation(rng, fields)))
            ids[name] = OA.add_assets(project, [src], kind=kind, name=name, tags=tags)[0]
        glb = crate_glb(tmp / "prop_crate.glb")
        ids["Prop crate"] = OA.add_assets(project, [glb], kind="other", name="Prop crate", tags="prop, 3D")[0]
    OA.star_asset(project, ids["Maya"], on=True)
    first = shot_ids(project.conn)[:3]
    if first:
        OA.assign_to_shots(project, [ids["Maya"]], first)
        OA.assign_to_shots(project, [ids["Prop crate"]], first[:1])
