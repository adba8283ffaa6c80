"""Summaries of ComfyUI graphs: what prompt, seed, model and LoRAs made this file.

Input is the API-format `prompt` graph ComfyUI embeds ({node_id: {class_type, inputs}}, links
are [node_id, output_slot]), or the UI `workflow` graph converted to that shape by
`workflow_to_prompt` when only the workflow is present. Pure data in, data out: nothing from the
graph is ever executed.

How the summary is found: the sampler nodes reachable from the output nodes are collected; the
primary one is the sampler no other sampler feeds (the first pass: its seed fixes the
composition; hires-fix and refiner passes are listed in `samplers`). From it the positive and
negative links are followed back through conditioning nodes to the text encoders, the model link
through LoRA loaders to the checkpoint/UNet loader, and the latent link to the node that sets the
size.
"""
from __future__ import annotations

from collections import deque

SAMPLER_TYPES = {"KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced"}
MODEL_KEYS = ("ckpt_name", "unet_name", "gguf_name", "model_name", "base_ckpt_name", "model_path")
TEXT_KEYS = ("text", "text_g", "text_l", "clip_l", "t5xxl", "prompt", "positive_prompt", "string")
NOT_CONDITIONING = {"clip", "model", "vae", "control_net", "image", "pixels", "mask", "latent",
                    "latent_image", "samples", "clip_vision", "clip_vision_output", "style_model",
                    "start_image", "end_image", "upscale_model"}
SIZE_SKIP = {"model", "clip", "vae", "control_net", "clip_vision", "upscale_model", "positive",
             "negative", "conditioning"}
MAX_DEPTH = 256

# Widget order of common node types, for reading UI workflows (they store widget values as a
# list without names). None marks a value to skip.
WIDGETS: dict[str, list[str | None]] = {
    "KSampler": ["seed", None, "steps", "cfg", "sampler_name", "scheduler", "denoise"],
    "KSamplerAdvanced": ["add_noise", "noise_seed", None, "steps", "cfg", "sampler_name", "scheduler",
                         "start_at_step", "end_at_step", "return_with_leftover_noise"],
    "SamplerCustom": ["add_noise", "noise_seed", None, "cfg"],
    "RandomNoise": ["noise_seed", None],
    "KSamplerSelect": ["sampler_name"],
    "BasicScheduler": ["scheduler", "steps", "denoise"],
    "SDTurboScheduler": ["steps", "denoise"],
    "Flux2Scheduler": ["steps", "width", "height"],
    "LTXVScheduler": ["steps", "max_shift", "base_shift", "stretch", "terminal"],
    "CFGGuider": ["cfg"],
    "DualCFGGuider": ["cfg_conds", "cfg_cond2_negative"],
    "FluxGuidance": ["guidance"],
    "CLIPTextEncode": ["text"],
    "CLIPTextEncodeSDXL": ["width", "height", "crop_w", "crop_h", "target_width", "target_height",
                           "text_g", "text_l"],
    "CLIPTextEncodeFlux": ["clip_l", "t5xxl", "guidance"],
    "CheckpointLoaderSimple": ["ckpt_name"],
    "CheckpointLoader": ["config_name", "ckpt_name"],
    "ImageOnlyCheckpointLoader": ["ckpt_name"],
    "UNETLoader": ["unet_name", "weight_dtype"],
    "UnetLoaderGGUF": ["unet_name"],
    "LoraLoader": ["lora_name", "strength_model", "strength_clip"],
    "LoraLoaderModelOnly": ["lora_name", "strength_model"],
    "HypernetworkLoader": ["hypernetwork_name", "strength"],
    "EmptyLatentImage": ["width", "height", "batch_size"],
    "EmptySD3LatentImage": ["width", "height", "batch_size"],
    "EmptyFlux2LatentImage": ["width", "height", "batch_size"],
    "EmptyHunyuanLatentVideo": ["width", "height", "length", "batch_size"],
    "EmptyLTXVLatentVideo": ["width", "height", "length", "batch_size"],
    "EmptyMochiLatentVideo": ["width", "height", "length", "batch_size"],
    "WanImageToVideo": ["width", "height", "length", "batch_size"],
    "LatentUpscale": ["upscale_method", "width", "height", "crop"],
    "ImageScale": ["upscale_method", "width", "height", "crop"],
    "LoadImage": ["image", None],
    "LoadImageMask": ["image", "channel", None],
    "PrimitiveNode": ["value", None],
    "PrimitiveString": ["value"],
    "PrimitiveStringMultiline": ["value"],
    "PrimitiveInt": ["value", None],
    "PrimitiveFloat": ["value"],
}


def is_link(v) -> bool:
    return (isinstance(v, list) and len(v) == 2 and isinstance(v[0], (str, int))
            and not isinstance(v[0], bool) and isinstance(v[1], int) and not isinstance(v[1], bool))


def _order_key(node_id: str):
    # '37:8' (a node inside subgraph 37) sorts after 37 and before 38.
    parts = []
    for p in str(node_id).split(":"):
        parts.append((0, int(p)) if p.isdigit() else (1, p))
    return parts


def is_graph(data) -> bool:
    """True for an API-format prompt graph."""
    return isinstance(data, dict) and bool(data) and all(
        isinstance(n, dict) and "class_type" in n for n in data.values())


class Graph:
    def __init__(self, prompt: dict):
        self.nodes = {str(k): v for k, v in prompt.items()
                      if isinstance(v, dict) and isinstance(v.get("inputs", {}), dict)}

    def node(self, link_or_id):
        nid = link_or_id[0] if is_link(link_or_id) else link_or_id
        return self.nodes.get(str(nid))

    def ins(self, node) -> dict:
        return (node or {}).get("inputs") or {}

    def ctype(self, node) -> str:
        return str((node or {}).get("class_type", ""))

    def value(self, ins: dict, *keys, depth: int = 0):
        """The first of `keys` with a literal value; a link is followed to the node that holds
        the value (seed/number/text primitives)."""
        for k in keys:
            if k not in ins:
                continue
            v = ins[k]
            if is_link(v):
                v = self._literal_of(v, depth + 1)
            if v is not None and not isinstance(v, (dict, list)):
                return v
        return None

    def _literal_of(self, link, depth):
        if depth > 16:
            return None
        src = self.ins(self.node(link))
        for k in ("value", "seed", "noise_seed", "int", "float", "number", "text", "string", "Number",
                  "Text", "STRING", "INT", "FLOAT"):
            if k in src:
                v = src[k]
                if is_link(v):
                    return self._literal_of(v, depth + 1)
                if not isinstance(v, (dict, list)):
                    return v
        return None

    # -- structure ----------------------------------------------------------------------------
    def upstream(self, start_ids, skip_keys=()) -> set[str]:
        seen: set[str] = set()
        todo = deque(str(s) for s in start_ids)
        while todo:
            nid = todo.popleft()
            for k, v in self.ins(self.nodes.get(nid)).items():
                if k in skip_keys or not is_link(v):
                    continue
                src = str(v[0])
                if src not in seen and src in self.nodes:
                    seen.add(src)
                    todo.append(src)
        return seen

    def is_sampler(self, node) -> bool:
        ct = self.ctype(node)
        if ct in SAMPLER_TYPES:
            return True
        ins = self.ins(node)
        return "sampler" in ct.lower() and any(k in ins for k in ("positive", "guider", "latent_image"))

    def is_output(self, node) -> bool:
        ct = self.ctype(node)
        return ("Save" in ct or "Preview" in ct or "VideoCombine" in ct) and "Loader" not in ct

    def samplers(self) -> list[str]:
        """Sampler ids, upstream first; those feeding no output are kept only if nothing does."""
        all_s = [k for k, n in self.nodes.items() if self.is_sampler(n)]
        outputs = [k for k, n in self.nodes.items() if self.is_output(n)]
        reach = self.upstream(outputs) if outputs else set(all_s)
        cands = [s for s in all_s if s in reach] or all_s
        ups = {s: self.upstream([s]) for s in cands}
        depth = {s: sum(1 for o in cands if o != s and o in ups[s]) for s in cands}
        return sorted(cands, key=lambda s: (depth[s], _order_key(s)))

    # -- following links ----------------------------------------------------------------------
    def texts(self, link, found_guidance: list, seen=None, depth=0) -> list[str]:
        """Prompt texts that reach `link`, following conditioning back to the text encoders."""
        if not is_link(link) or depth > MAX_DEPTH:
            return []
        seen = seen if seen is not None else set()
        key = (str(link[0]), link[1])
        if key in seen:
            return []
        seen.add(key)
        node = self.node(link)
        if node is None:
            return []
        ins = self.ins(node)
        ct = self.ctype(node)
        if ct == "FluxGuidance" or (ct.startswith("CLIPTextEncodeFlux") and "guidance" in ins):
            g = self.value(ins, "guidance")
            if isinstance(g, (int, float)):
                found_guidance.append(float(g))
        own = self._encoder_text(node)
        if own is not None:
            return own
        pos, neg = ins.get("positive"), ins.get("negative")
        if is_link(pos) and is_link(neg):
            # Nodes that pass both conditionings through (ControlNetApplyAdvanced,
            # WanImageToVideo, InstructPixToPixConditioning, LTXVAddGuide ...) output
            # positive on slot 0 and negative on slot 1.
            follow = pos if link[1] == 0 else neg if link[1] == 1 else None
            return self.texts(follow, found_guidance, seen, depth + 1) if follow else []
        out: list[str] = []
        for k, v in ins.items():
            if is_link(v) and k not in NOT_CONDITIONING and ("cond" in k.lower() or k in ("positive", "negative")):
                for t in self.texts(v, found_guidance, seen, depth + 1):
                    if t not in out:
                        out.append(t)
        return out

    def _encoder_text(self, node) -> list[str] | None:
        ins = self.ins(node)
        ct = self.ctype(node)
        keys = [k for k in TEXT_KEYS if k in ins]
        if not keys or not ("Encode" in ct or "Text" in ct or "Prompt" in ct or "String" in ct):
            return None
        out: list[str] = []
        for k in keys:
            v = self.value(ins, k)
            if isinstance(v, str) and v not in out:
                out.append(v)
        return out

    def model_chain(self, link) -> tuple[str | None, list[dict]]:
        """(checkpoint/UNet name, LoRAs in the order they apply) along a model link."""
        loras: list[dict] = []
        model = None
        seen = set()
        cur = link
        while is_link(cur) and str(cur[0]) not in seen and len(seen) < MAX_DEPTH:
            seen.add(str(cur[0]))
            node = self.node(cur)
            if node is None:
                break
            ins = self.ins(node)
            lora = self.value(ins, "lora_name")
            if isinstance(lora, str):
                loras.append({"name": lora, "strength_model": _num(self.value(ins, "strength_model", "strength")),
                              "strength_clip": _num(self.value(ins, "strength_clip"))})
            hyper = self.value(ins, "hypernetwork_name")
            if isinstance(hyper, str):
                loras.append({"name": hyper, "strength_model": _num(self.value(ins, "strength")),
                              "strength_clip": None, "kind": "hypernetwork"})
            for v in ins.values():  # rgthree Power Lora Loader: {"on": true, "lora": name, "strength": x}
                if isinstance(v, dict) and isinstance(v.get("lora"), str) and v.get("on", True):
                    if v["lora"] and v["lora"].lower() != "none":
                        loras.append({"name": v["lora"], "strength_model": _num(v.get("strength")),
                                      "strength_clip": _num(v.get("strengthTwo", v.get("strength")))})
            name = self.value(ins, *MODEL_KEYS)
            if isinstance(name, str) and lora is None:
                model = name
                break
            nxt = ins.get("model")
            if not is_link(nxt):
                nxt = next((v for k, v in ins.items() if is_link(v) and "model" in k.lower()), None)
            cur = nxt
        loras.reverse()
        return model, loras

    def size(self, link) -> tuple[int | None, int | None]:
        """Width/height of the nearest node upstream of a latent link that sets both."""
        if not is_link(link):
            return None, None
        todo = deque([str(link[0])])
        seen = set(todo)
        while todo:
            nid = todo.popleft()
            ins = self.ins(self.nodes.get(nid))
            w, h = self.value(ins, "width"), self.value(ins, "height")
            if _is_int(w) and _is_int(h) and w > 0 and h > 0:
                return int(w), int(h)
            for k, v in ins.items():
                if is_link(v) and k not in SIZE_SKIP and str(v[0]) not in seen:
                    seen.add(str(v[0]))
                    todo.append(str(v[0]))
        return None, None

    def inputs(self) -> list[str]:
        """Files the graph loads (LoadImage and friends)."""
        out = []
        outputs = [k for k, n in self.nodes.items() if self.is_output(n)]
        reach = self.upstream(outputs) if outputs else set(self.nodes)
        for nid in sorted(self.nodes, key=_order_key):
            node = self.nodes[nid]
            ct = self.ctype(node)
            if nid not in reach:
                continue
            if "Load" not in ct or not ("Image" in ct or "Video" in ct):
                continue
            for k in ("image", "video", "file", "filename"):
                v = self.ins(node).get(k)
                if isinstance(v, str) and v and v not in out:
                    out.append(v)
        return out


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _num(v):
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _int_or_none(v):
    if _is_int(v):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v)
    return None


def sampler_params(g: Graph, sid: str) -> dict:
    node = g.nodes[sid]
    ins = g.ins(node)
    noise = g.node(ins.get("noise")) if is_link(ins.get("noise")) else None
    guider = g.node(ins.get("guider")) if is_link(ins.get("guider")) else None
    sigmas = g.node(ins.get("sigmas")) if is_link(ins.get("sigmas")) else None
    sampler = g.node(ins.get("sampler")) if is_link(ins.get("sampler")) else None
    gins, sins = g.ins(guider), g.ins(sigmas)
    p: dict = {"node": sid, "class_type": g.ctype(node)}
    seed = g.value(ins, "seed", "noise_seed")
    if seed is None and noise is not None:
        seed = g.value(g.ins(noise), "noise_seed", "seed")
    p["seed"] = _int_or_none(seed)
    p["steps"] = _int_or_none(g.value(ins, "steps") if "steps" in ins else g.value(sins, "steps"))
    cfg = g.value(ins, "cfg")
    if cfg is None and guider is not None:
        cfg = g.value(gins, "cfg", "cfg_conds")
    p["cfg"] = _num(cfg)
    name = g.value(ins, "sampler_name")
    if name is None and sampler is not None:
        name = g.value(g.ins(sampler), "sampler_name") or g.ctype(sampler)
    p["sampler"] = name if isinstance(name, str) else None
    sched = g.value(ins, "scheduler")
    if sched is None and sigmas is not None:
        sched = g.value(sins, "scheduler") or g.ctype(sigmas)
    p["scheduler"] = sched if isinstance(sched, str) else None
    p["denoise"] = _num(g.value(ins, "denoise") if "denoise" in ins else g.value(sins, "denoise"))
    pos = ins.get("positive")
    neg = ins.get("negative")
    if guider is not None:
        pos = pos or gins.get("positive") or gins.get("conditioning") or gins.get("cond1")
        neg = neg or gins.get("negative")
    guidance: list[float] = []
    p["positive"] = "\n".join(t for t in g.texts(pos, guidance) if t) if is_link(pos) else None
    p["negative"] = "\n".join(t for t in g.texts(neg, []) if t) if is_link(neg) else None
    p["guidance"] = guidance[0] if guidance else None
    model_link = ins.get("model") or gins.get("model") or sins.get("model")
    p["model"], p["loras"] = g.model_chain(model_link)
    p["width"], p["height"] = g.size(ins.get("latent_image"))
    return p


SUMMARY_KEYS = ("positive", "negative", "seed", "steps", "cfg", "guidance", "denoise", "sampler",
                "scheduler", "model", "loras", "width", "height")


def summarize(prompt: dict) -> dict:
    """Summary fields of an API-format graph (keys of SUMMARY_KEYS plus inputs and samplers)."""
    g = Graph(prompt)
    ids = g.samplers()
    passes = [sampler_params(g, s) for s in ids]
    out = dict.fromkeys(SUMMARY_KEYS)
    out["loras"] = []
    if passes:
        first = passes[0]
        for k in SUMMARY_KEYS:
            out[k] = first.get(k)
        # A later pass may know what the first leaves open (e.g. a size set only downstream).
        for k in SUMMARY_KEYS:
            if out[k] in (None, []):
                out[k] = next((p[k] for p in passes[1:] if p.get(k) not in (None, [])), out[k])
    else:
        # No sampler (e.g. an upscale-only graph): still report the texts and models present.
        texts = [t for n in g.nodes.values() for t in (g._encoder_text(n) or [])]
        out["positive"] = texts[0] if texts else None
        names = [g.value(g.ins(n), *MODEL_KEYS) for n in g.nodes.values()]
        out["model"] = next((x for x in names if isinstance(x, str)), None)
    out["inputs"] = g.inputs()
    out["samplers"] = passes
    return out


# -- UI workflow -> API prompt -------------------------------------------------------------------

def _links(wf: dict) -> dict:
    """link id -> (origin node id, origin slot) for both the old list and the newer dict forms."""
    out = {}
    for l in wf.get("links") or []:
        if isinstance(l, list) and len(l) >= 5:
            out[l[0]] = (str(l[1]), int(l[2]))
        elif isinstance(l, dict) and "id" in l:
            out[l["id"]] = (str(l.get("origin_id")), int(l.get("origin_slot") or 0))
    return out


def _passthrough(n: dict, links: dict) -> dict:
    """(node id, output slot) -> origin for a Reroute or a bypassed node. ComfyUI passes a
    bypassed node's input of the same type to each output (same index first, else the first
    input of that type)."""
    out = {}
    ins = n.get("inputs") or []
    for slot, o in enumerate(n.get("outputs") or [{"type": "*"}]):
        otype = o.get("type", "*") if isinstance(o, dict) else "*"
        def matches(i):
            return i.get("link") is not None and (otype == "*" or i.get("type") in (otype, "*")
                                                   or n.get("type") == "Reroute")
        cand = ins[slot] if slot < len(ins) and matches(ins[slot]) else next((i for i in ins if matches(i)), None)
        if cand is not None and cand.get("link") in links:
            out[(str(n["id"]), slot)] = links[cand["link"]]
    return out


def workflow_to_prompt(wf: dict) -> dict:
    """Rebuild an API-format graph from a UI workflow (used when a file has no `prompt`).

    Muted nodes are dropped; Reroute and bypassed nodes pass their inputs through (as ComfyUI
    does); widget values are named from WIDGETS for the common node types (unknown nodes keep
    only their links). Nodes inside subgraph definitions are not expanded.
    """
    nodes = [n for n in wf.get("nodes") or [] if isinstance(n, dict) and "id" in n]
    links = _links(wf)
    through: dict = {}
    for n in nodes:
        if n.get("type") == "Reroute" or n.get("mode") == 4:
            through.update(_passthrough(n, links))

    def resolve(origin):
        hops = 0
        while origin and tuple(origin) in through and hops < 64:
            origin = through[tuple(origin)]
            hops += 1
        return origin

    graph = {}
    for n in nodes:
        if n.get("mode") in (2, 4) or n.get("type") in ("Reroute", "Note", "MarkdownNote"):
            continue
        ins: dict = {}
        wv = n.get("widgets_values")
        if isinstance(wv, dict):
            ins.update({k: v for k, v in wv.items() if not isinstance(v, dict) or "lora" in v})
        elif isinstance(wv, list):
            names = WIDGETS.get(n.get("type"))
            if names:
                for name, v in zip(names, wv):
                    if name:
                        ins[name] = v
            else:
                for i, v in enumerate(wv):
                    if isinstance(v, dict) and "lora" in v:
                        ins[f"lora_{i}"] = v
                strings = [v for v in wv if isinstance(v, str)]
                if len(wv) == 1 and strings and ("Text" in n.get("type", "") or "Prompt" in n.get("type", "")):
                    ins["text"] = strings[0]
        for i in n.get("inputs") or []:
            origin = resolve(links.get(i.get("link")))
            if origin:
                ins[i.get("name")] = [origin[0], origin[1]]
        graph[str(n["id"])] = {"class_type": n.get("type"), "inputs": ins}
    # Links from muted nodes dangle: drop them.
    for node in graph.values():
        for k, v in list(node["inputs"].items()):
            if is_link(v) and str(v[0]) not in graph:
                del node["inputs"][k]
    return graph
