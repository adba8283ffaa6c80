"""Workflow templates: an API-format ComfyUI graph plus bindings from shot fields to node inputs.

ComfyUI saves two JSON shapes. The UI format (`{"nodes": [...], "links": [...]}`) is what
"Save"/"Export" writes and cannot be queued; the API format (`{"3": {"class_type": "KSampler",
"inputs": {...}}, ...}`) is what `POST /prompt` takes. Only the API format is accepted here, and the
UI format gets an error that says how to export the other one.

Bindings are found for the nodes almost every workflow has (the primary sampler's positive and
negative text encoders, its seed, LoRA loaders, LoadImage, SaveImage / VHS_VideoCombine) and can be
edited: each is `node.input = field`, stored as text in the project (store/comfy settings).
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

from aimms_fast.errors import AimmsError
from aimms_fast.media.genmeta_comfy import SAMPLER_TYPES, is_link

FIELDS = ("prompt", "negative", "seed", "lora_1", "lora_2", "lora_3", "ref_1", "ref_2", "ref_3",
          "filename_prefix")
SEED_KEYS = ("seed", "noise_seed")
TEXT_KEYS = ("text", "text_g", "text_l", "t5xxl", "clip_l", "prompt")
LORA_TYPES = ("LoraLoader", "LoraLoaderModelOnly")
OUTPUT_TYPES = ("SaveImage", "VHS_VideoCombine", "SaveAnimatedWEBP", "SaveVideo", "SaveWEBM")
VIDEO_TYPES = ("VHS_VideoCombine", "SaveVideo", "SaveWEBM", "SaveAnimatedWEBP")
EXPORT_HINT = ("only the API format can be queued: in ComfyUI use Workflow > Export (API) (older versions: "
               "turn on Settings > Dev mode, then 'Save (API Format)') and use that file")


@dataclass(frozen=True)
class Binding:
    """Shot field `field` goes into input `input` of node `node` (an API graph node id)."""
    node: str
    input: str
    field: str

    def text(self) -> str:
        return f"{self.node}.{self.input}={self.field}"

    @classmethod
    def parse(cls, text: str) -> "Binding":
        try:
            left, fld = text.split("=", 1)
            node, inp = left.strip().split(".", 1)
        except ValueError:
            raise AimmsError(f"binding '{text}' is not NODE.INPUT=FIELD", field="binding",
                             hint="e.g. 6.text=prompt or 3.seed=seed") from None
        fld = fld.strip()
        if fld not in FIELDS:
            raise AimmsError(f"binding '{text}': unknown field '{fld}'", field="binding",
                             hint="fields: " + ", ".join(FIELDS))
        return cls(node.strip(), inp.strip(), fld)


@dataclass
class Template:
    name: str
    graph: dict
    bindings: list[Binding]
    storyboard: str          # 'video' when the graph ends in a video output node, else 'image'

    def to_json(self) -> dict:
        return {"name": self.name, "graph": self.graph, "bindings": [b.text() for b in self.bindings],
                "storyboard": self.storyboard}

    @classmethod
    def from_json(cls, d: dict) -> "Template":
        return cls(d["name"], d["graph"], [Binding.parse(t) for t in d["bindings"]], d["storyboard"])


def parse_graph(data, *, path: str | Path | None = None) -> dict:
    """The API graph in `data` (parsed JSON), or AimmsError naming what is wrong and what to do."""
    if isinstance(data, dict) and isinstance(data.get("nodes"), list) and "links" in data:
        raise AimmsError("workflow is in ComfyUI's UI format, not the API format", path=path, hint=EXPORT_HINT)
    if isinstance(data, dict) and isinstance(data.get("prompt"), dict) and "client_id" in data:
        data = data["prompt"]        # a saved POST /prompt body
    if not isinstance(data, dict) or not data:
        raise AimmsError("workflow JSON is not a ComfyUI API graph (expected an object of nodes)", path=path,
                         hint="export it from ComfyUI with Workflow > Export (API)")
    for nid, node in data.items():
        if not isinstance(node, dict) or not isinstance(node.get("class_type"), str) \
                or not isinstance(node.get("inputs"), dict):
            raise AimmsError(f"node '{nid}' has no class_type/inputs", path=path, field=str(nid),
                             hint="export the workflow with Workflow > Export (API)")
    if not any(n["class_type"] in OUTPUT_TYPES or "filename_prefix" in n["inputs"] for n in data.values()):
        raise AimmsError("workflow has no output node (SaveImage or Video Combine)", path=path,
                         hint="add a Save Image or Video Combine node so ComfyUI writes files")
    return {str(k): v for k, v in data.items()}


def load_template(path: str | Path, *, bindings: list[str] | None = None) -> Template:
    """Read an API-format workflow file; bindings found automatically, then `bindings` (texts
    NODE.INPUT=FIELD) replace the found ones for the same node input."""
    path = Path(path)
    if path.exists() and not path.is_file():
        # a FIFO or device would block read_text forever (issue 14)
        raise AimmsError("not a regular file (a folder, FIFO or device)", path=path,
                         hint="name the workflow .json file itself")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise AimmsError(f"cannot read the workflow ({e.strerror or e})", path=path) from e
    except ValueError as e:
        raise AimmsError(f"workflow is not valid JSON ({e})", path=path,
                         hint="export it from ComfyUI with Workflow > Export (API)") from e
    graph = parse_graph(data, path=path)
    t = Template(path.name, graph, find_bindings(graph), storyboard_of(graph))
    if bindings:
        t.bindings = merge_bindings(t.bindings, [Binding.parse(b) for b in bindings], graph)
    return t


def merge_bindings(found: list[Binding], edits: list[Binding], graph: dict) -> list[Binding]:
    for b in edits:
        if b.node not in graph:
            raise AimmsError(f"binding {b.text()}: the workflow has no node '{b.node}'", field="binding",
                             hint="node ids: " + ", ".join(sorted(graph, key=_order)))
    taken = {(b.node, b.input) for b in edits}
    return [b for b in found if (b.node, b.input) not in taken] + list(edits)


def _order(nid: str):
    return (0, int(nid)) if nid.isdigit() else (1, nid)


def storyboard_of(graph: dict) -> str:
    return "video" if any(n["class_type"] in VIDEO_TYPES for n in graph.values()) else "image"


def _text_source(graph: dict, link, depth: int = 0) -> tuple[str, str] | None:
    """Follow a conditioning link back to the node input holding the literal prompt text."""
    if depth > 24 or not is_link(link):
        return None
    nid = str(link[0])
    node = graph.get(nid)
    if node is None:
        return None
    ins = node["inputs"]
    for k in TEXT_KEYS:
        v = ins.get(k)
        if isinstance(v, str):
            return nid, k
        if is_link(v):
            src = graph.get(str(v[0]))
            if src is not None:
                for sk in ("value", "text", "string"):
                    if isinstance(src["inputs"].get(sk), str):
                        return str(v[0]), sk
    for k in ("conditioning", "conditioning_1", "positive", "negative", "conditioning_to"):
        if is_link(ins.get(k)):
            got = _text_source(graph, ins[k], depth + 1)
            if got:
                return got
    return None


def _primary_sampler(graph: dict) -> str | None:
    samplers = [nid for nid, n in graph.items() if n["class_type"] in SAMPLER_TYPES]
    fed = {str(v[0]) for nid in samplers for v in graph[nid]["inputs"].values() if is_link(v)}
    first = [s for s in samplers if not (set(_upstream(graph, s)) - {s}) & set(samplers)]
    pool = first or [s for s in samplers if s not in fed] or samplers
    return sorted(pool, key=_order)[0] if pool else None


def _upstream(graph: dict, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        nid = todo.pop()
        if nid in seen or nid not in graph:
            continue
        seen.add(nid)
        todo += [str(v[0]) for v in graph[nid]["inputs"].values() if is_link(v)]
    return seen


def find_bindings(graph: dict) -> list[Binding]:
    """Bindings for the common nodes (see the module docstring); may be empty for exotic graphs."""
    out: list[Binding] = []
    sampler = _primary_sampler(graph)
    if sampler:
        ins = graph[sampler]["inputs"]
        for role in ("positive", "negative"):
            src = _text_source(graph, ins.get(role))
            if src:
                out.append(Binding(src[0], src[1], "prompt" if role == "positive" else "negative"))
    for nid in sorted(graph, key=_order):
        n = graph[nid]
        ins = n["inputs"]
        for k in SEED_KEYS:
            if k in ins and not is_link(ins[k]) and (n["class_type"] in SAMPLER_TYPES
                                                     or n["class_type"] == "RandomNoise"):
                out.append(Binding(nid, k, "seed"))
    if not any(b.field == "prompt" for b in out):   # no sampler: go by the encoders' titles
        for nid in sorted(graph, key=_order):
            n = graph[nid]
            title = str((n.get("_meta") or {}).get("title", "")).lower()
            if n["class_type"].startswith("CLIPTextEncode") and isinstance(n["inputs"].get("text"), str):
                fld = "negative" if "neg" in title else "prompt"
                if not any(b.field == fld for b in out):
                    out.append(Binding(nid, "text", fld))
    loras = [nid for nid in sorted(graph, key=_order) if graph[nid]["class_type"] in LORA_TYPES]
    out += [Binding(nid, "lora_name", f"lora_{i + 1}") for i, nid in enumerate(loras[:3])]
    loads = [nid for nid in sorted(graph, key=_order) if graph[nid]["class_type"] == "LoadImage"]
    out += [Binding(nid, "image", f"ref_{i + 1}") for i, nid in enumerate(loads[:3])]
    for nid in sorted(graph, key=_order):
        if "filename_prefix" in graph[nid]["inputs"] and not is_link(graph[nid]["inputs"]["filename_prefix"]):
            out.append(Binding(nid, "filename_prefix", "filename_prefix"))
    return out


def split_lora(text: str) -> tuple[str, float | None]:
    """'name.safetensors:0.8' -> ('name.safetensors', 0.8); a plain name keeps the template's strength."""
    name, _, strength = text.strip().rpartition(":")
    if name:
        try:
            return name.strip(), float(strength)
        except ValueError:
            pass
    return text.strip(), None


def shot_values(shot: dict, storyboard: str, *, seed: int | None, refs: dict[int, str], prefix: str) -> dict:
    """The value of each field for one shot (None: keep the template's value)."""
    p = "video" if storyboard == "video" else "image"
    vals = {"prompt": shot.get(f"{p}_prompt") or shot.get("image_prompt") or None,
            "negative": shot.get(f"{p}_negative") or None, "seed": seed, "filename_prefix": prefix}
    for i in (1, 2, 3):
        vals[f"lora_{i}"] = (shot.get(f"lora_{i}") or "").strip() or None
        vals[f"ref_{i}"] = refs.get(i)
    return vals


def bind(template: Template, values: dict) -> dict:
    """A deep copy of the graph with each bound input set from `values` (None: left as is)."""
    graph = copy.deepcopy(template.graph)
    for b in template.bindings:
        v = values.get(b.field)
        node = graph.get(b.node)
        if v is None or node is None:
            continue
        if b.field.startswith("lora_"):
            name, strength = split_lora(v)
            node["inputs"][b.input] = name
            if strength is not None:
                for k in ("strength_model", "strength_clip"):
                    if k in node["inputs"] and not is_link(node["inputs"][k]):
                        node["inputs"][k] = strength
        else:
            node["inputs"][b.input] = v
    return graph
