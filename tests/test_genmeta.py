"""Generation metadata: the actual prompt, seed and model of real ComfyUI/A1111/Fooocus/InvokeAI/
NovelAI files and of a VideoHelperSuite-style MP4; damaged and hostile metadata."""
from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import av
import numpy as np
from click.testing import CliRunner

from aimms_fast.media import png_chunks
from aimms_fast.media.genmeta import decode_user_comment, ensure_gen, read_generation, read_raw, stored, stored_raw
from aimms_fast.media.genmeta_comfy import workflow_to_prompt
from tests.conftest import make_image


def gen(realdata, rel):
    g = read_generation(realdata / rel)
    assert g is not None, rel
    return g


def test_comfyui_pngs(realdata):
    g = gen(realdata, "comfyui/png/lora__lora_multiple.png")
    assert g.source == "comfyui"
    assert (g.positive, g.negative) == ("masterpiece best quality girl", "bad hands")
    assert (g.seed, g.steps, g.cfg, g.sampler, g.scheduler) == (513173432917412, 20, 8.0, "euler", "normal")
    assert g.model == "v1-5-pruned-emaonly.ckpt"
    assert g.loras == [  # in the order they apply (checkpoint first)
        {"name": "theovercomer8sContrastFix_sd15.safetensors", "strength_model": 1.0, "strength_clip": 1.0},
        {"name": "epiNoiseoffset_v2.safetensors", "strength_model": 1.0, "strength_clip": 1.0}]
    assert (g.width, g.height) == (512, 512)
    assert set(g.raw) == {"prompt", "workflow"} and json.loads(g.raw["prompt"])["3"]["class_type"] == "KSampler"

    g = gen(realdata, "comfyui/png/flux__girl_in_field.png")  # SamplerCustomAdvanced + FluxGuidance
    assert g.positive == "mulan standing in front of a rice paddy" and g.negative is None
    assert (g.seed, g.steps, g.sampler, g.scheduler, g.guidance) == (219670278747233, 20, "euler", "simple", 3.5)
    assert g.model == "flux1-dev.safetensors" and (g.width, g.height) == (1024, 1024)

    g = gen(realdata, "comfyui/png/sdxl__sdxl_simple_example.png")  # base + refiner passes
    assert g.positive == "evening sunset scenery blue sky nature, glass bottle with a galaxy in it"
    assert (g.seed, g.steps, g.model) == (721897303308196, 25, "sd_xl_base_1.0.safetensors")
    assert [s["model"] for s in g.samplers] == ["sd_xl_base_1.0.safetensors", "sd_xl_refiner_1.0.safetensors"]

    g = gen(realdata, "comfyui/png/2_pass_txt2img__hiresfix_latent_workflow.png")
    assert g.positive == "masterpiece HDR victorian portrait painting of woman, blonde hair, mountain nature, blue sky\n"
    assert (g.seed, g.width, g.height, g.model) == (89848141647836, 768, 768, "v2-1_768-ema-pruned.ckpt")
    assert [(s["seed"], s["denoise"]) for s in g.samplers] == [(89848141647836, 1.0), (469771404043268, 0.5)]

    g = gen(realdata, "comfyui/png/controlnet__controlnet_example.png")  # ControlNetApply in the path
    assert g.positive.startswith("(solo) girl (flat chest:0.9), (fennec ears:1.1)")
    assert g.negative.startswith("(hands), text, error, cropped")
    assert (g.seed, g.model, g.inputs) == (1002496614778823, "Anything-V3.0.ckpt", ["input_scribble_example.png"])

    g = gen(realdata, "comfyui/png/hidream__hidream_e1_example.png")  # DualCFGGuider, subgraph ids "37:8"
    assert (g.positive, g.negative, g.seed, g.cfg) == ("snow at sunset oil painting", "", 850933585641497, 5.0)
    assert g.model == "hidream_e1_full_bf16.safetensors" and g.inputs == ["mountains.png"]

    g = gen(realdata, "comfyui/png/sdturbo__sdxlturbo_example.png")  # SamplerCustom + SDTurboScheduler
    assert (g.seed, g.steps, g.cfg, g.sampler, g.scheduler) == (0, 1, 1.0, "euler_ancestral", "SDTurboScheduler")
    assert g.model == "sd_xl_turbo_1.0_fp16.safetensors"

    g = gen(realdata, "comfyui/png/lcm__lcm_basic_example.png")
    assert g.loras == [{"name": "lcm_lora_sdxl.safetensors", "strength_model": 1.0, "strength_clip": 1.0}]
    assert (g.sampler, g.scheduler, g.cfg, g.model) == ("lcm", "sgm_uniform", 1.8, "sd_xl_1.0.safetensors")

    g = gen(realdata, "comfyui/png/hypernetworks__hypernetwork_example_output.png")
    assert g.loras == [{"name": "dantionMarbleStatues_10.pt", "strength_model": 1.0, "strength_clip": None,
                        "kind": "hypernetwork"}]

    g = gen(realdata, "comfyui/png/img2img__img2img_workflow.png")
    assert (g.denoise, g.inputs, g.width) == (0.8700000000000001, ["example.png"], None)

    g = gen(realdata, "comfyui/png/flux2__flux2_example.png")
    # Its two LoadImage nodes feed ReferenceLatent nodes that are bypassed in this example: they
    # do not reach the output, so they are not inputs of this image.
    assert g.inputs == [] and g.model == "flux2_dev_fp8mixed.safetensors"
    assert g.seed == 435922656034510 and g.guidance == 4.0


def test_comfyui_webp_exif(realdata):
    g = gen(realdata, "comfyui/webp/wan__text_to_video_wan.webp")
    assert g.source == "comfyui"
    assert g.positive == ("a fox moving quickly in a beautiful winter scenery nature trees mountains "
                          "daytime tracking camera")
    assert g.negative.startswith("色调艳丽，过曝，静态")
    assert (g.seed, g.steps, g.cfg, g.model) == (82628696717253, 30, 6.0, "wan2.1_t2v_1.3B_fp16.safetensors")
    assert (g.width, g.height) == (832, 480)

    g = gen(realdata, "comfyui/webp/wan__image_to_video_wan_example.webp")  # WanImageToVideo slots
    assert g.positive == ("a cute anime girl with massive fennec ears and a big fluffy tail wearing a maid "
                          "outfit turning around")
    assert g.negative.startswith("色调艳丽")
    assert (g.seed, g.model, g.inputs) == (987948718394761, "wan2.1_i2v_480p_14B_fp16.safetensors",
                                           ["flux_dev_example.png"])

    g = gen(realdata, "comfyui/webp/flux__flux_kontext_example_comic.webp")  # 7 KSamplers, the first feeds all
    assert g.positive.startswith("make her anime cute and her fennec ears massive")
    assert (g.seed, g.guidance, g.model) == (972054013132814, 2.5, "flux1-kontext-dev.safetensors")
    assert len(g.samplers) == 7


def test_web_ui_formats(realdata):
    for rel in ("sd_metadata/AUTOMATIC1111__automatic1111_cropped.png",
                "sd_metadata/AUTOMATIC1111__automatic1111_cropped.jpg"):  # tEXt, and EXIF UserComment UNICODE
        g = gen(realdata, rel)
        assert g.source == "a1111", rel
        assert (g.positive, g.negative) == ("photo of a duck", "monochrome")
        assert (g.seed, g.steps, g.cfg, g.sampler) == (235284042, 15, 5.0, "UniPC")
        assert (g.model, g.width, g.height) == ("realistic_realisticVisionV20_v20", 512, 400)

    g = gen(realdata, "sd_metadata/Fooocus__fooocus1_cropped.png")
    assert (g.source, g.positive, g.negative) == ("fooocus", "a smiling goldfish", "")
    assert (g.seed, g.steps, g.cfg) == (6952411511246973023, 30, 4.0)
    assert (g.model, g.sampler, g.scheduler) == ("juggernautXL_v8Rundiffusion", "dpmpp_2m_sde_gpu", "karras")
    assert (g.width, g.height, g.app) == (768, 1280, "Fooocus v2.4.3")

    g = gen(realdata, "sd_metadata/InvokeAI__invokeai_imeta1.png")
    assert g.source == "invokeai"
    assert g.positive == "digital artwork, oil painting. painterly brushstrokes, holidays,"
    assert g.negative.startswith("grainy+, photo, oversaturated")
    assert (g.seed, g.steps, g.cfg, g.model, g.width) == (3293022630, 35, 8.0, "juggernautXL", 1024)
    assert g.inputs == ["21b3ddb9-089b-49fd-b074-0b9fdac3ab3e.png"]

    g = gen(realdata, "sd_metadata/NovelAI__novelai1_cropped.png")
    assert (g.source, g.positive) == ("novelai", "masterpiece, best quality,  cat, space, icon")
    assert g.negative.startswith("lowres, bad anatomy, bad hands")
    assert (g.seed, g.steps, g.cfg, g.sampler) == (2253955223, 50, 10.0, "k_euler_ancestral")
    assert g.model == "Stable Diffusion 1D44365E"

    g = gen(realdata, "sd_metadata/ComfyUI__img2img_cropped.png")  # CheckpointLoader (with config)
    assert (g.source, g.seed, g.model) == ("comfyui", 280823642470253, "v1-5-pruned-emaonly.ckpt")


def test_a1111_infotext_details():
    from aimms_fast.media.genmeta_apps import parse_a1111
    text = ('a castle <lora:film_grain:0.6>, dusk\nsecond line\nNegative prompt: blurry,\nlowres\n'
            'Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 42, '
            'Size: 832x1216, Model hash: abc123, Model: juggernaut, Denoising strength: 0.4, '
            'Lora hashes: "film_grain: 1f2e3d4c, other: 99", Version: f2.0.1v1.10.1')
    f = parse_a1111(text)
    assert f["positive"] == "a castle <lora:film_grain:0.6>, dusk\nsecond line"
    assert f["negative"] == "blurry,\nlowres"
    assert (f["steps"], f["sampler"], f["scheduler"], f["cfg"], f["seed"]) == (28, "DPM++ 2M", "Karras", 6.5, 42)
    assert (f["width"], f["height"], f["model"], f["denoise"]) == (832, 1216, "juggernaut", 0.4)
    assert f["loras"] == [{"name": "film_grain", "strength_model": 0.6, "strength_clip": None}]
    assert f["params"]["Lora hashes"] == "film_grain: 1f2e3d4c, other: 99"


def test_user_comment_charsets():
    text = "photo of a duck\nSteps: 15, Seed: 1"
    assert decode_user_comment(b"UNICODE\0" + text.encode("utf-16-be")) == text
    assert decode_user_comment(b"UNICODE\0" + text.encode("utf-16-le")) == text
    assert decode_user_comment(b"ASCII\0\0\0" + text.encode()) == text
    assert decode_user_comment(b"\0" * 8 + "café".encode()) == "café"


def _vhs_mp4(path: Path, prompt: dict, workflow: dict, *, container_format=None) -> Path:
    """A clip as VideoHelperSuite writes it: comment = json.dumps({"prompt": json.dumps(prompt),
    "workflow": workflow}) (videohelpersuite/nodes.py ffmpeg_process: the prompt is encoded twice)."""
    with av.open(str(path), "w", format=container_format) as c:
        c.metadata["comment"] = json.dumps({"prompt": json.dumps(prompt), "workflow": workflow})
        s = c.add_stream("libx264", rate=8)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for i in range(4):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 40, np.uint8), format="rgb24")
            for pkt in s.encode(frame):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


def _wan_prompt(realdata) -> tuple[dict, dict]:
    raw, _ = read_raw(realdata / "comfyui/webp/wan__text_to_video_wan.webp")
    return json.loads(raw["prompt"]), json.loads(raw["workflow"])


def test_videohelpersuite_mp4_and_mkv(realdata, tmp_path):
    prompt, workflow = _wan_prompt(realdata)
    for name in ("vhs.mp4", "vhs.mkv"):
        clip = _vhs_mp4(tmp_path / name, prompt, workflow)
        g = read_generation(clip)
        assert g is not None and g.source == "comfyui", name
        assert g.positive == ("a fox moving quickly in a beautiful winter scenery nature trees mountains "
                              "daytime tracking camera")
        assert (g.seed, g.model) == (82628696717253, "wan2.1_t2v_1.3B_fp16.safetensors")
        assert json.loads(g.raw["workflow"])["last_node_id"] == workflow["last_node_id"]
    plain = tmp_path / "plain.mp4"
    from tests.conftest import make_video
    make_video(plain, frames=4)
    assert read_generation(plain) is None


def test_no_metadata_and_broken_files(realdata, tmp_path):
    assert read_generation(realdata / "comfyui/png/controlnet__input_scribble_example.png") is None
    assert read_generation(realdata / "comfyui/png/controlnet__shark_depthmap.png") is None
    assert read_generation(realdata / "sd_metadata/bad__empty_file.png") is None
    assert read_generation(realdata / "sd_metadata/bad__empty_image.png") is None
    assert read_generation(realdata / "video/odd/truncated_header_only.mkv") is None
    assert read_generation(realdata / "video/odd/audio_only_aac_tiny.mp4") is None

    bad = make_image(tmp_path / "bad.png", text_chunks={"prompt": '{"3": {"class_type": "KSampler", "inputs": {',
                                                        "workflow": "{not json"})
    g = read_generation(bad)
    assert g.source == "error"
    assert "ComfyUI 'prompt' is not valid JSON (line 1" in g.error and "'workflow' is not valid JSON" in g.error
    assert g.raw["workflow"] == "{not json"  # the raw text is kept as it was

    # Workflow only (e.g. a PNG exported from the ComfyUI canvas): summarised from the UI graph.
    raw, _ = read_raw(realdata / "comfyui/png/lora__lora_multiple.png")
    wf_only = make_image(tmp_path / "wf.png", text_chunks={"workflow": raw["workflow"]})
    g = read_generation(wf_only)
    assert g.source == "comfyui-workflow"
    assert (g.positive, g.seed, g.model) == ("masterpiece best quality girl", 513173432917412,
                                             "v1-5-pruned-emaonly.ckpt")
    assert [lo["name"] for lo in g.loras] == ["theovercomer8sContrastFix_sd15.safetensors",
                                              "epiNoiseoffset_v2.safetensors"]

    # A graph nobody anticipated never raises.
    odd = make_image(tmp_path / "odd.png", text_chunks={"prompt": json.dumps(
        {"1": {"class_type": "KSampler", "inputs": {"seed": ["1", 0], "positive": ["1", 0], "model": ["1", 0],
                                                    "latent_image": ["9", 5]}}})})
    g = read_generation(odd)
    assert g.source == "comfyui" and g.seed is None and g.positive == ""


def test_workflow_json_files_fall_back_to_the_ui_graph(realdata):
    g = gen(realdata, "comfyui/workflow_json/wan__text_to_video_wan.json")
    assert g.source == "comfyui-workflow"
    assert (g.seed, g.steps, g.cfg, g.sampler) == (82628696717253, 30, 6.0, "uni_pc")
    assert (g.model, g.width, g.height) == ("wan2.1_t2v_1.3B_fp16.safetensors", 832, 480)
    # LTX-Video: a bypassed LTXVAddGuide passes its conditioning and latent through, as in ComfyUI.
    g = gen(realdata, "comfyui/workflow_json/ltxv__ltxv_image_to_video.0.9.5.json")
    assert g.positive.startswith("A red fox moving gracefully, its russet coat vibrant")
    assert g.negative.startswith("low quality, worst quality, deformed")
    assert (g.seed, g.steps, g.width, g.height) == (397166166231987, 30, 768, 512)
    assert g.inputs == ["fox.jpg"]  # sunset.png only feeds the bypassed node
    wf = json.loads((realdata / "comfyui/workflow_json/wan__text_to_video_wan.json").read_text())
    graph = workflow_to_prompt(wf)
    assert "47" not in graph  # SaveWEBM is bypassed (mode 4)


def _chunk(ctype: bytes, data: bytes, crc: int | None = None) -> bytes:
    c = zlib.crc32(ctype + data) if crc is None else crc
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", c & 0xFFFFFFFF)


def _insert_before_iend(png: bytes, chunk: bytes) -> bytes:
    i = png.rindex(b"IEND") - 4
    return png[:i] + chunk + png[i:]


def test_hostile_and_late_text_chunks(tmp_path):
    base = make_image(tmp_path / "base.png").read_bytes()
    # A zTXt that inflates to 32 MiB (a decompression bomb): refused, the file still reads.
    bomb = zlib.compress(b"\0" * (32 * 1024 * 1024), 9)
    p = tmp_path / "bomb.png"
    p.write_bytes(_insert_before_iend(base, _chunk(b"zTXt", b"prompt\0\0" + bomb)))
    raw, warnings = read_raw(p)
    assert "prompt" not in raw and any("inflates beyond 16 MiB" in w for w in warnings)
    assert read_generation(p) is None
    # Text after IDAT (Pillow's Image.info misses it) and iTXt (compressed, UTF-8) are read.
    comp = zlib.compress("Steps: 5, Seed: 7, Sampler: Euler".encode())
    itxt = b"parameters\0\x01\0\0\0" + comp
    p2 = tmp_path / "late.png"
    p2.write_bytes(_insert_before_iend(base, _chunk(b"iTXt", itxt)))
    g = read_generation(p2)
    assert (g.source, g.seed, g.steps, g.sampler) == ("a1111", 7, 5, "Euler")
    # JSON nested beyond the parser's recursion limit: an error, not a crash.
    deep = make_image(tmp_path / "deep.png", text_chunks={"prompt": "[" * 200000 + "]" * 200000})
    g = read_generation(deep)
    assert g.source == "error" and "ComfyUI 'prompt' is not valid JSON" in g.error
    # Absurd numbers are dropped, not passed on to SQLite or JSON writers.
    absurd = make_image(tmp_path / "absurd.png", text_chunks={
        "parameters": f"x\nSteps: {10 ** 30}, Seed: {2 ** 70}, CFG scale: 7, Size: 512x512"})
    g = read_generation(absurd)
    assert (g.steps, g.seed, g.cfg, g.width) == (None, None, 7.0, 512)
    assert any("steps" in w and "out of range" in w for w in g.warnings)
    # Wrong types where text belongs become text (an InvokeAI prompt given as a list).
    listy = make_image(tmp_path / "listy.png", text_chunks={"invokeai_metadata": json.dumps(
        {"positive_prompt": ["a", "b"], "model": {"name": 7}, "seed": "12"})})
    g = read_generation(listy)
    assert (g.positive, g.model, g.seed) == ("a\nb", "7", 12)
    # A declared chunk length beyond the file is a truncated file, not a crash or a huge read.
    p3 = tmp_path / "liar.png"
    p3.write_bytes(base[:33] + struct.pack(">I", 0x7FFFFFF0) + b"tEXt" + b"prompt\0{}")
    s = png_chunks.scan(p3)
    assert any("runs past the end" in x for x in s.problems)
    assert read_generation(p3) is None


def test_ensure_gen_stores_rows_and_cli(project, realdata):
    lay = project.layout
    src = realdata / "comfyui/png/lora__lora_multiple.png"
    rel = "media/1/base_01.png"
    lay.abs(rel).parent.mkdir(parents=True, exist_ok=True)
    lay.abs(rel).write_bytes(src.read_bytes())
    none_rel = "media/1/base_02.png"
    lay.abs(none_rel).write_bytes((realdata / "comfyui/png/controlnet__input_scribble_example.png").read_bytes())
    rows = ensure_gen(project, [rel, none_rel])
    assert [r["source"] for r in rows] == ["comfyui", "none"]
    row = stored(project.conn, rel)
    assert row["seed"] == "513173432917412" and row["positive"] == "masterpiece best quality girl"
    assert json.loads(row["loras_json"])[1]["name"] == "epiNoiseoffset_v2.safetensors"
    raw = stored_raw(project.conn, rel)
    assert set(raw) == {"prompt", "workflow"} and '"LoraLoader"' in raw["prompt"]
    project.conn.execute("UPDATE fast_gen SET read_at = 'sentinel' WHERE path = ?", (rel,))
    assert ensure_gen(project, [rel])[0]["read_at"] == "sentinel"  # unchanged: not read again

    from aimms_fast.cli import cli
    r = CliRunner().invoke(cli, ["meta", str(src), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert (d["seed"], d["model"], d["raw"]) == (513173432917412, "v1-5-pruned-emaonly.ckpt", ["prompt", "workflow"])
    r = CliRunner().invoke(cli, ["meta", str(src)])
    assert "masterpiece best quality girl" in r.output and "epiNoiseoffset_v2.safetensors" in r.output
    r = CliRunner().invoke(cli, ["meta", str(realdata / "comfyui/png/controlnet__input_scribble_example.png")])
    assert r.exit_code == 0 and "no generation metadata" in r.output
    r = CliRunner().invoke(cli, ["meta", str(realdata / "nope.png")])
    assert r.exit_code == 1 and "file not found" in r.output


def test_oversized_text_chunks_are_refused(tmp_path, monkeypatch):
    # The real limit is 16 MiB; shrink it so the test file stays small.
    monkeypatch.setattr(png_chunks, "MAX_TEXT_CHUNK", 1024)
    big = make_image(tmp_path / "big.png", text_chunks={"prompt": json.dumps({"x": "y" * 4000}),
                                                        "parameters": "small\nSteps: 3, Seed: 9"})
    raw, warnings = read_raw(big)
    assert "prompt" not in raw and raw["parameters"].startswith("small")
    assert any("tEXt chunk of" in w and "refused (limit 1024)" in w for w in warnings)
    g = read_generation(big)
    assert (g.source, g.seed) == ("a1111", 9)
