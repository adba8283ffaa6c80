"""ComfyUI graphs for the demo media, in both of ComfyUI's formats.

Real ComfyUI outputs carry two PNG text chunks: `prompt` (the API graph: node id -> class_type +
inputs, links as [node_id, slot]) and `workflow` (the UI graph: nodes with positions, widget values
and a links table). Both are built here from one node list so they always describe the same graph,
with the shapes copied from real files (`comfyui/png/lora__lora_multiple.png` and others).
VideoHelperSuite's Video Combine stores the same data as JSON in the container's `comment` tag.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

# Output slots of each node type we use: (name, type), in ComfyUI's order.
_OUTPUTS = {
    "CheckpointLoaderSimple": [("MODEL", "MODEL"), ("CLIP", "CLIP"), ("VAE", "VAE")],
    "LoraLoader": [("MODEL", "MODEL"), ("CLIP", "CLIP")],
    "CLIPTextEncode": [("CONDITIONING", "CONDITIONING")],
    "EmptyLatentImage": [("LATENT", "LATENT")],
    "KSampler": [("LATENT", "LATENT")],
    "VAEDecode": [("IMAGE", "IMAGE")],
    "SaveImage": [],
    "VHS_VideoCombine": [("Filenames", "VHS_FILENAMES")],
}
_TITLES = {"CheckpointLoaderSimple": "Load Checkpoint", "LoraLoader": "Load LoRA",
           "CLIPTextEncode": "CLIP Text Encode (Prompt)", "EmptyLatentImage": "Empty Latent Image",
           "KSampler": "KSampler", "VAEDecode": "VAE Decode", "SaveImage": "Save Image",
           "VHS_VideoCombine": "Video Combine 🎥🅥🅗🅢"}


@dataclass
class _Node:
    id: int
    class_type: str
    widgets: dict            # widget name -> value, in the node's widget order
    links: dict = field(default_factory=dict)   # input name -> (source node id, slot)
    title: str | None = None


@dataclass
class Generation:
    """What one ComfyUI run was asked to do (what the demo's prompts and seeds vary)."""
    positive: str
    negative: str
    seed: int
    steps: int = 20
    cfg: float = 7.0
    sampler_name: str = "euler"
    scheduler: str = "normal"
    checkpoint: str = "sd_xl_base_1.0.safetensors"
    width: int = 1024
    height: int = 576
    loras: list[tuple[str, float]] = field(default_factory=list)
    frames: int = 0          # >0: a video run (batch of frames into Video Combine)
    frame_rate: int = 24
    filename_prefix: str = "aimms_demo"


def _nodes(g: Generation) -> list[_Node]:
    nodes = [_Node(4, "CheckpointLoaderSimple", {"ckpt_name": g.checkpoint})]
    model, clip = (4, 0), (4, 1)
    for i, (name, strength) in enumerate(g.loras):
        nid = 10 + i
        nodes.append(_Node(nid, "LoraLoader", {"lora_name": name, "strength_model": strength,
                                               "strength_clip": strength},
                           {"model": model, "clip": clip}))
        model, clip = (nid, 0), (nid, 1)
    nodes += [
        _Node(6, "CLIPTextEncode", {"text": g.positive}, {"clip": clip}, "Positive Prompt"),
        _Node(7, "CLIPTextEncode", {"text": g.negative}, {"clip": clip}, "Negative Prompt"),
        _Node(5, "EmptyLatentImage", {"width": g.width, "height": g.height,
                                      "batch_size": g.frames or 1}),
        _Node(3, "KSampler", {"seed": g.seed, "steps": g.steps, "cfg": g.cfg,
                              "sampler_name": g.sampler_name, "scheduler": g.scheduler, "denoise": 1.0},
              {"model": model, "positive": (6, 0), "negative": (7, 0), "latent_image": (5, 0)}),
        _Node(8, "VAEDecode", {}, {"samples": (3, 0), "vae": (4, 2)}),
    ]
    if g.frames:
        nodes.append(_Node(9, "VHS_VideoCombine", {
            "frame_rate": g.frame_rate, "loop_count": 0, "filename_prefix": g.filename_prefix,
            "format": "video/h264-mp4", "pix_fmt": "yuv420p", "crf": 19, "save_metadata": True,
            "pingpong": False, "save_output": True}, {"images": (8, 0)}))
    else:
        nodes.append(_Node(9, "SaveImage", {"filename_prefix": g.filename_prefix}, {"images": (8, 0)}))
    return nodes


def api_prompt(g: Generation) -> dict:
    """The `prompt` chunk: {"3": {"inputs": {...}, "class_type": "KSampler", "_meta": {...}}, ...}."""
    out = {}
    for n in _nodes(g):
        inputs = dict(n.widgets)
        inputs.update({k: [str(src), slot] for k, (src, slot) in n.links.items()})
        out[str(n.id)] = {"inputs": inputs, "class_type": n.class_type,
                          "_meta": {"title": n.title or _TITLES[n.class_type]}}
    return out


def _widget_values(n: _Node) -> list | dict:
    if n.class_type == "KSampler":
        w = n.widgets  # the UI keeps "control after generate" right after the seed
        return [w["seed"], "fixed", w["steps"], w["cfg"], w["sampler_name"], w["scheduler"], w["denoise"]]
    if n.class_type == "VHS_VideoCombine":
        return dict(n.widgets)  # VHS nodes store a dict, not a list
    return list(n.widgets.values())


def ui_workflow(g: Generation) -> dict:
    """The `workflow` chunk: LiteGraph nodes + links table, as the ComfyUI editor saves it."""
    nodes = _nodes(g)
    links, link_id = [], 0
    outs: dict[tuple[int, int], list[int]] = {}
    ins: dict[tuple[int, str], int] = {}
    order = {n.id: i for i, n in enumerate(nodes)}
    for n in nodes:
        for slot_name, (src, slot) in n.links.items():
            link_id += 1
            target_slot = list(n.links).index(slot_name)
            src_type = _OUTPUTS[next(m.class_type for m in nodes if m.id == src)][slot][1]
            links.append([link_id, src, slot, n.id, target_slot, src_type])
            outs.setdefault((src, slot), []).append(link_id)
            ins[(n.id, slot_name)] = link_id
    ui_nodes = []
    for i, n in enumerate(nodes):
        inputs = []
        for slot_name, (src, slot) in n.links.items():
            src_type = _OUTPUTS[next(m.class_type for m in nodes if m.id == src)][slot][1]
            inputs.append({"name": slot_name, "type": src_type, "link": ins[(n.id, slot_name)]})
        outputs = [{"name": name, "type": typ, "links": outs.get((n.id, s), []), "slot_index": s}
                   for s, (name, typ) in enumerate(_OUTPUTS[n.class_type])]
        node = {"id": n.id, "type": n.class_type, "pos": [80 + 360 * (order[n.id] // 3), 120 + 220 * (i % 3)],
                "size": [315, 130 if n.widgets else 46], "flags": {}, "order": order[n.id], "mode": 0,
                "inputs": inputs, "outputs": outputs,
                "properties": {"Node name for S&R": n.class_type}, "widgets_values": _widget_values(n)}
        if n.title:
            node["title"] = n.title
        ui_nodes.append(node)
    return {"last_node_id": max(n.id for n in nodes), "last_link_id": link_id, "nodes": ui_nodes,
            "links": links, "groups": [], "config": {},
            "extra": {"ds": {"scale": 1.0, "offset": [0, 0]}}, "version": 0.4}


def png_chunks(g: Generation) -> dict[str, str]:
    """Text chunks as ComfyUI's SaveImage (and VHS's first-frame PNG) write them."""
    return {"prompt": json.dumps(api_prompt(g)), "workflow": json.dumps(ui_workflow(g))}


def vhs_comment(g: Generation, *, prompt_as_string: bool = True) -> str:
    """VideoHelperSuite's container `comment`: JSON with "prompt" and "workflow".

    VHS versions differ: older ones store `prompt` as a JSON string inside the JSON, newer ones
    as an object; the demo writes both forms so readers meet both.
    """
    prompt = api_prompt(g)
    return json.dumps({"prompt": json.dumps(prompt) if prompt_as_string else prompt,
                       "workflow": ui_workflow(g)})
