"""Generation metadata of the web UIs: AUTOMATIC1111/Forge `parameters` text, Fooocus JSON,
InvokeAI `invokeai_metadata`, NovelAI Description/Comment. Each parser returns summary fields
(see genmeta.GenSummary); text in, dict out, nothing evaluated."""
from __future__ import annotations

import json
import re

# A1111's own pattern for the settings line (modules/infotext_utils.py): `Key: value, Key: "quoted, value"`.
_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_SETTINGS_START = re.compile(r"^\s*Steps:\s*\d+")
_LORA_TAG = re.compile(r"<(lora|lyco|hypernet):([^:>]+)(?::([-\d.]+))?(?::[^>]*)?>")
_SIZE = re.compile(r"^\s*(\d+)\s*[x×]\s*(\d+)\s*$")
_PAIR = re.compile(r"^\s*\(?\s*(\d+)\s*[,x×]\s*(\d+)\s*\)?\s*$")


def _int(v):
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return None


def _float(v):
    try:
        return float(str(v).strip())
    except (TypeError, ValueError):
        return None


def _unquote(v: str) -> str:
    v = v.strip()
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        try:
            return json.loads(v)
        except ValueError:
            return v[1:-1]
    return v


def looks_like_a1111(text: str) -> bool:
    return any(_SETTINGS_START.match(line) for line in text.splitlines()[-3:]) or "\nSteps: " in text


def parse_a1111(text: str) -> dict:
    """AUTOMATIC1111 / Forge / SD.Next infotext:

        positive prompt (any number of lines)
        Negative prompt: negative (any number of lines)
        Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Model: name, ...
    """
    lines = text.strip("\n").split("\n")
    settings = ""
    if lines and _SETTINGS_START.match(lines[-1]):
        settings = lines.pop()
    pos, neg, in_neg = [], [], False
    for line in lines:
        if line.startswith("Negative prompt:"):
            in_neg = True
            line = line[len("Negative prompt:"):].lstrip()
        (neg if in_neg else pos).append(line)
    params = {k.strip(): _unquote(v) for k, v in _PARAM.findall(settings)}
    positive = "\n".join(pos).strip()
    out = {
        "positive": positive,
        "negative": "\n".join(neg).strip() if in_neg else None,
        "seed": _int(params.get("Seed")),
        "steps": _int(params.get("Steps")),
        "cfg": _float(params.get("CFG scale")),
        "guidance": _float(params.get("Distilled CFG Scale")),
        "denoise": _float(params.get("Denoising strength")),
        "sampler": params.get("Sampler") or None,
        "scheduler": params.get("Schedule type") or None,
        "model": params.get("Model") or params.get("Model hash") or None,
        "loras": [],
        "inputs": [],
        "app": params.get("Version"),
        "params": params,
    }
    m = _SIZE.match(params.get("Size", ""))
    out["width"], out["height"] = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    for kind, name, weight in _LORA_TAG.findall(positive):
        out["loras"].append({"name": name, "strength_model": _float(weight) if weight else 1.0,
                             "strength_clip": None, **({"kind": "hypernetwork"} if kind == "hypernet" else {})})
    return out


def is_fooocus(data) -> bool:
    return isinstance(data, dict) and ("full_prompt" in data or data.get("metadata_scheme") == "fooocus"
                                       or str(data.get("version", "")).startswith("Fooocus"))


def parse_fooocus(data: dict) -> dict:
    """Fooocus `parameters` JSON (metadata_scheme 'fooocus'; the 'a1111' scheme is plain infotext)."""
    w = h = None
    m = _PAIR.match(str(data.get("resolution", "")))
    if m:
        w, h = int(m.group(1)), int(m.group(2))
    loras = []
    for item in data.get("loras") or []:
        if isinstance(item, (list, tuple)) and item:
            loras.append({"name": str(item[0]), "strength_model": _float(item[1]) if len(item) > 1 else None,
                          "strength_clip": None})
    return {
        "positive": data.get("prompt"),
        "negative": data.get("negative_prompt"),
        "seed": _int(data.get("seed")),
        "steps": _int(data.get("steps")),
        "cfg": _float(data.get("guidance_scale")),
        "sampler": data.get("sampler"),
        "scheduler": data.get("scheduler"),
        "model": data.get("base_model"),
        "loras": loras,
        "width": w, "height": h,
        "inputs": [],
        "app": data.get("version"),
    }


def _model_name(m) -> str | None:
    if isinstance(m, dict):
        return m.get("model_name") or m.get("name") or m.get("key")
    return m if isinstance(m, str) else None


def parse_invokeai(data: dict) -> dict:
    """InvokeAI 3.x/4.x `invokeai_metadata` JSON."""
    loras = []
    for item in data.get("loras") or []:
        if isinstance(item, dict):
            name = _model_name(item.get("lora") or item.get("model"))
            if name:
                loras.append({"name": name, "strength_model": _float(item.get("weight")), "strength_clip": None})
    inputs = []
    for ad in (data.get("ipAdapters") or []) + (data.get("controlnets") or []):
        img = ad.get("image") if isinstance(ad, dict) else None
        name = img.get("image_name") if isinstance(img, dict) else None
        if name:
            inputs.append(name)
    init = data.get("init_image")
    if isinstance(init, str):
        inputs.append(init)
    return {
        "positive": data.get("positive_prompt"),
        "negative": data.get("negative_prompt"),
        "seed": _int(data.get("seed")),
        "steps": _int(data.get("steps")),
        "cfg": _float(data.get("cfg_scale")),
        "denoise": _float(data.get("strength")),
        "sampler": data.get("scheduler"),
        "scheduler": data.get("scheduler"),
        "model": _model_name(data.get("model")),
        "loras": loras,
        "width": _int(data.get("width")), "height": _int(data.get("height")),
        "inputs": inputs,
        "app": data.get("app_version"),
    }


def parse_invokeai_legacy(data: dict) -> dict:
    """InvokeAI 2.x `sd-metadata` JSON ({"model_weights": ..., "image": {"prompt": [...], ...}})."""
    img = data.get("image") if isinstance(data.get("image"), dict) else {}
    prompt = img.get("prompt")
    if isinstance(prompt, list):
        prompt = " ".join(str(p.get("prompt", "")) for p in prompt if isinstance(p, dict))
    return {
        "positive": prompt, "negative": None, "seed": _int(img.get("seed")), "steps": _int(img.get("steps")),
        "cfg": _float(img.get("cfg_scale")), "sampler": img.get("sampler"), "scheduler": None,
        "model": data.get("model_weights"), "loras": [], "width": _int(img.get("width")),
        "height": _int(img.get("height")), "inputs": [], "app": data.get("app_version"),
    }


def parse_novelai(text_chunks: dict, comment: dict) -> dict:
    """NovelAI PNG: Description = prompt, Comment = JSON settings (uc = negative), Source = model."""
    return {
        "positive": text_chunks.get("Description") or comment.get("prompt"),
        "negative": comment.get("uc"),
        "seed": _int(comment.get("seed")),
        "steps": _int(comment.get("steps")),
        "cfg": _float(comment.get("scale")),
        "denoise": _float(comment.get("strength")),
        "sampler": comment.get("sampler"),
        "scheduler": comment.get("noise_schedule"),
        "model": text_chunks.get("Source"),
        "loras": [],
        "width": _int(comment.get("width")), "height": _int(comment.get("height")),
        "inputs": [],
        "app": text_chunks.get("Software"),
    }
