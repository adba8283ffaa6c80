"""A stand-in ComfyUI server for tests and the manual trial (never part of the product).

It follows ComfyUI's routes and message shapes (server.py, script_examples/websockets_api_example.py):
POST /prompt (validation -> 400 with `error` + `node_errors`), GET /history/{id}, GET /view,
POST /upload/image (multipart), GET/POST /queue, POST /interrupt, WebSocket /ws?clientId=
(`status`, `execution_start`, `execution_cached`, `executing`, `progress`, `executed`,
`execution_success`, `execution_error`, `execution_interrupted`, then `executing` node None).

"Executing" a graph writes real files with PyAV/Pillow into the output folder, named the way
ComfyUI names them: SaveImage `{prefix}_{counter:05}_.png` with the `prompt` and every
`extra_pnginfo` key as PNG text chunks; VHS_VideoCombine first `{prefix}_{counter:05}.png` (same
chunks), then `{prefix}_{counter:05}.mp4` whose `comment` tag holds the same JSON. A prefix with
a '/' writes into that subfolder. Standard library only (ThreadingHTTPServer + a small RFC 6455
server side), so it needs nothing ComfyUI needs.

Run by hand: python -m tests.comfy_server --output DIR [--port 8188]
"""
from __future__ import annotations

import argparse
import base64
import email.parser
import email.policy
import hashlib
import json
import queue
import re
import socket
import struct
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

KNOWN = {"CheckpointLoaderSimple", "LoraLoader", "LoraLoaderModelOnly", "CLIPTextEncode", "EmptyLatentImage",
         "KSampler", "VAEDecode", "SaveImage", "VHS_VideoCombine", "LoadImage", "PreviewImage"}
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class _WS:
    """One server-side WebSocket: unmasked text frames out, masked frames in (only close matters)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.lock = threading.Lock()
        self.open = True

    def send(self, obj) -> None:
        data = json.dumps(obj).encode()
        n = len(data)
        head = bytes([0x81]) + (bytes([n]) if n < 126 else bytes([126]) + struct.pack(">H", n) if n < 65536
                                else bytes([127]) + struct.pack(">Q", n))
        with self.lock:
            if not self.open:
                return
            try:
                self.sock.sendall(head + data)
            except OSError:
                self.open = False

    def drop(self) -> None:
        """Cut the connection without a close frame (a network drop)."""
        with self.lock:
            self.open = False
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def read_until_closed(self, rfile) -> None:
        while self.open:
            try:
                head = rfile.read(2)
                if len(head) < 2:
                    break
                op, n = head[0] & 0x0F, head[1] & 0x7F
                if n == 126:
                    n = struct.unpack(">H", rfile.read(2))[0]
                elif n == 127:
                    n = struct.unpack(">Q", rfile.read(8))[0]
                mask = rfile.read(4) if head[1] & 0x80 else b""
                payload = rfile.read(n)
                if op == 8:
                    break
                if op == 9 and n < 126:   # ping -> pong with the same (unmasked) payload
                    data = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if mask else payload
                    with self.lock:
                        self.sock.sendall(bytes([0x8A, len(data)]) + data)
            except OSError:
                break
        self.open = False


class FakeComfy:
    """Options tests turn on: `drop_ws_after_progress` (cut every WebSocket once, mid-job),
    `fail_class` (that node class raises during execution), `step_s` (time per progress step),
    `steps` (progress messages per sampler)."""

    def __init__(self, output: Path, *, port: int = 0, input_dir: Path | None = None):
        self.output = Path(output)
        self.input = Path(input_dir) if input_dir else self.output.parent / "comfy_input"
        self.output.mkdir(parents=True, exist_ok=True)
        self.input.mkdir(parents=True, exist_ok=True)
        self.history: dict[str, dict] = {}
        self.pending: list[list] = []
        self.running: list | None = None
        self.sockets: dict[str, list[_WS]] = {}
        self.number = 0
        self.lock = threading.Lock()
        self.work = queue.Queue()
        self.interrupt = threading.Event()
        self.drop_ws_after_progress = False
        self.fail_class: str | None = None
        self.step_s = 0.05
        self.steps = 4
        self.uploads: list[str] = []
        self.prompts: list[dict] = []
        handler = type("H", (_Handler,), {"fake": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._threads = [threading.Thread(target=self.httpd.serve_forever, daemon=True),
                         threading.Thread(target=self._worker, daemon=True)]

    def start(self) -> "FakeComfy":
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self.work.put(None)
        for socks in list(self.sockets.values()):
            for s in socks:
                s.drop()
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- messages ----------------------------------------------------------------------------
    def send(self, client_id: str | None, kind: str, data: dict) -> None:
        targets = self.sockets.get(client_id, []) if client_id else [s for v in self.sockets.values() for s in v]
        for s in list(targets):
            s.send({"type": kind, "data": data})

    def status(self) -> dict:
        return {"status": {"exec_info": {"queue_remaining": len(self.pending) + (1 if self.running else 0)}}}

    # -- queue -------------------------------------------------------------------------------
    def validate(self, prompt: dict) -> tuple[dict | None, dict]:
        for nid, n in prompt.items():
            if not isinstance(n, dict) or n.get("class_type") not in KNOWN:
                ct = n.get("class_type") if isinstance(n, dict) else None
                return ({"type": "invalid_prompt", "message": f"Cannot execute because node {ct} does not exist.",
                         "details": f"Node ID '#{nid}'", "extra_info": {}}, {})
        errors = {}
        for nid, n in prompt.items():
            if n["class_type"] == "CLIPTextEncode" and not isinstance(n["inputs"].get("text"), (str, list)):
                errors[nid] = {"errors": [{"type": "required_input_missing", "message": "Required input is missing",
                                           "details": "text", "extra_info": {"input_name": "text"}}],
                               "dependent_outputs": [k for k, v in prompt.items() if "filename_prefix" in v["inputs"]],
                               "class_type": "CLIPTextEncode"}
        if not any("filename_prefix" in n["inputs"] for n in prompt.values()):
            return ({"type": "prompt_no_outputs", "message": "Prompt has no outputs", "details": "",
                     "extra_info": {}}, {})
        if errors:
            return ({"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                     "details": "", "extra_info": {}}, errors)
        return None, {}

    def queue_prompt(self, body: dict) -> tuple[int, dict]:
        prompt = body.get("prompt")
        if not isinstance(prompt, dict):
            return 400, {"error": {"type": "no_prompt", "message": "No prompt provided", "details": "",
                                   "extra_info": {}}, "node_errors": {}}
        err, node_errors = self.validate(prompt)
        if err:
            return 400, {"error": err, "node_errors": node_errors}
        pid = str(body.get("prompt_id") or uuid.uuid4())
        extra = dict(body.get("extra_data") or {})
        if body.get("client_id"):
            extra["client_id"] = body["client_id"]
        with self.lock:
            number = self.number
            self.number += 1
            item = [number, pid, prompt, extra, [k for k, v in prompt.items() if "filename_prefix" in v["inputs"]]]
            self.pending.append(item)
            self.prompts.append(prompt)
        self.work.put(pid)
        self.send(None, "status", self.status())
        return 200, {"prompt_id": pid, "number": number, "node_errors": {}}

    def _worker(self) -> None:
        while True:
            pid = self.work.get()
            if pid is None:
                return
            with self.lock:
                item = next((it for it in self.pending if it[1] == pid), None)
                if item is None:
                    continue
                self.pending.remove(item)
                self.running = item
            try:
                self._execute(item)
            finally:
                with self.lock:
                    self.running = None
                self.send(None, "status", self.status())

    def _execute(self, item) -> None:
        number, pid, prompt, extra, outs = item
        cid = extra.get("client_id")
        self.interrupt.clear()
        messages = [["execution_start", {"prompt_id": pid, "timestamp": int(time.time() * 1000)}]]
        self.send(cid, "execution_start", {"prompt_id": pid})
        self.send(cid, "execution_cached", {"nodes": [], "prompt_id": pid})
        outputs: dict = {}
        try:
            for nid in sorted(prompt, key=lambda k: (len(k), k)):
                node = prompt[nid]
                self.send(cid, "executing", {"node": nid, "display_node": nid, "prompt_id": pid})
                if node["class_type"] == self.fail_class:
                    raise RuntimeError(f"{node['class_type']} failed on purpose (test)")
                if node["class_type"] == "KSampler":
                    for v in range(1, self.steps + 1):
                        if self.interrupt.is_set():
                            raise InterruptedError
                        time.sleep(self.step_s)
                        self.send(cid, "progress", {"value": v, "max": self.steps, "prompt_id": pid, "node": nid})
                        if v == 2 and self.drop_ws_after_progress:
                            self.drop_ws_after_progress = False
                            for s in list(self.sockets.get(cid, [])):
                                s.drop()
                if node["class_type"] in ("SaveImage", "VHS_VideoCombine"):
                    out = self._save(node, prompt, extra.get("extra_pnginfo") or {})
                    outputs[nid] = out
                    self.send(cid, "executed", {"node": nid, "display_node": nid, "output": out, "prompt_id": pid})
        except InterruptedError:
            messages.append(["execution_interrupted", {"prompt_id": pid, "node_id": nid, "node_type":
                                                       prompt[nid]["class_type"], "executed": []}])
            self.send(cid, "execution_interrupted", messages[-1][1])
            self._store(pid, item, outputs, "error", messages)
            return
        except Exception as e:
            d = {"prompt_id": pid, "node_id": nid, "node_type": prompt[nid]["class_type"], "executed": [],
                 "exception_message": str(e), "exception_type": type(e).__name__, "traceback": [],
                 "current_inputs": {}, "current_outputs": {}}
            messages.append(["execution_error", d])
            self.send(cid, "execution_error", d)
            self._store(pid, item, outputs, "error", messages)
            return
        messages.append(["execution_success", {"prompt_id": pid, "timestamp": int(time.time() * 1000)}])
        self.send(cid, "execution_success", {"prompt_id": pid})
        self._store(pid, item, outputs, "success", messages)
        self.send(cid, "executing", {"node": None, "prompt_id": pid})

    def _store(self, pid, item, outputs, status, messages) -> None:
        with self.lock:
            self.history[pid] = {"prompt": item, "outputs": outputs,
                                 "status": {"status_str": status, "completed": status == "success",
                                            "messages": messages}, "meta": {}}

    # -- files, named like ComfyUI -------------------------------------------------------------
    def _counter(self, folder: Path, base: str, pattern: str) -> int:
        rx = re.compile(re.escape(base) + pattern)
        nums = [int(m.group(1)) for p in folder.glob(base + "_*") if (m := rx.fullmatch(p.name))]
        return max(nums, default=0) + 1

    def _save(self, node: dict, prompt: dict, pnginfo: dict) -> dict:
        from aimms_fast.demo.clips import ClipSpec, make_clip, save_png, still
        prefix = str(node["inputs"].get("filename_prefix") or "ComfyUI")
        sub, _, base = prefix.replace("\\", "/").rpartition("/")
        folder = self.output / sub
        folder.mkdir(parents=True, exist_ok=True)
        # SaveImage: metadata.add_text(key, json.dumps(value)) for the prompt and each extra_pnginfo key
        chunks = {"prompt": json.dumps(prompt), **{k: json.dumps(v) for k, v in pnginfo.items()}}
        label = next((n["inputs"]["text"] for n in prompt.values() if n["class_type"] == "CLIPTextEncode"
                      and isinstance(n["inputs"].get("text"), str)), base)[:40]
        if node["class_type"] == "SaveImage":
            n = self._counter(folder, base, r"_(\d{5})_\.png")
            name = f"{base}_{n:05}_.png"
            save_png(folder / name, still(label, seed=n, size=(128, 72)), chunks)
            return {"images": [{"filename": name, "subfolder": sub, "type": "output"}]}
        n = self._counter(folder, base, r"_(\d{5})\.(?:png|mp4)")
        png, mp4 = f"{base}_{n:05}.png", f"{base}_{n:05}.mp4"
        save_png(folder / png, still(label, seed=n, size=(128, 72)), chunks)
        comment = json.dumps({"prompt": json.dumps(prompt), **pnginfo})
        make_clip(folder / mp4, ClipSpec(label, seconds=0.5, fps=12, size=(128, 72), gop=6, seed=n,
                                         comment=comment))
        return {"gifs": [{"filename": mp4, "subfolder": sub, "type": "output", "format": "video/h264-mp4",
                          "frame_rate": 12.0, "workflow": png, "fullpath": str(folder / mp4)}]}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeComfy
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):   # quiet
        pass

    def _send(self, code: int, obj=None, *, body: bytes | None = None, ctype="application/json") -> None:
        data = body if body is not None else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        f = self.fake
        if url.path == "/ws":
            return self._websocket(q.get("clientId") or uuid.uuid4().hex)
        if url.path.startswith("/history/"):
            pid = urllib.parse.unquote(url.path[len("/history/"):])
            with f.lock:
                h = f.history.get(pid)
            return self._send(200, {pid: h} if h else {})
        if url.path == "/queue":
            with f.lock:
                return self._send(200, {"queue_running": [f.running] if f.running else [],
                                        "queue_pending": list(f.pending)})
        if url.path == "/view":
            base = {"output": f.output, "input": f.input}.get(q.get("type", "output"))
            p = (base / q.get("subfolder", "") / q.get("filename", "")).resolve() if base else None
            if p is None or not p.is_file() or base.resolve() not in p.parents:
                return self._send(404, body=b"", ctype="text/plain")
            return self._send(200, body=p.read_bytes(), ctype="application/octet-stream")
        if url.path == "/system_stats":
            return self._send(200, {"system": {"comfyui_version": "test-server"}, "devices": []})
        self._send(404, body=b"", ctype="text/plain")

    def do_POST(self):
        f = self.fake
        path = urllib.parse.urlparse(self.path).path
        raw = self._body()
        if path == "/prompt":
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self._send(400, {"error": {"type": "invalid_json", "message": "bad JSON"}, "node_errors": {}})
            code, obj = f.queue_prompt(body)
            return self._send(code, obj)
        if path == "/queue":
            body = json.loads(raw or b"{}")
            with f.lock:
                if body.get("clear"):
                    f.pending.clear()
                for pid in body.get("delete", []):
                    f.pending = [it for it in f.pending if it[1] != pid]
            return self._send(200, {})
        if path == "/interrupt":
            f.interrupt.set()
            return self._send(200, {})
        if path == "/upload/image":
            msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(
                f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + raw)
            fields, image = {}, None
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if name == "image":
                    image = (part.get_filename(), part.get_payload(decode=True))
                else:
                    fields[name] = part.get_content().strip()
            if image is None:
                return self._send(400, body=b"", ctype="text/plain")
            sub = fields.get("subfolder", "")
            (f.input / sub).mkdir(parents=True, exist_ok=True)
            (f.input / sub / image[0]).write_bytes(image[1])
            f.uploads.append(f"{sub}/{image[0]}" if sub else image[0])
            return self._send(200, {"name": image[0], "subfolder": sub, "type": "input"})
        self._send(404, body=b"", ctype="text/plain")

    def _websocket(self, client_id: str) -> None:
        key = self.headers.get("Sec-WebSocket-Key")
        if not key or "websocket" not in (self.headers.get("Upgrade") or "").lower():
            return self._send(400, body=b"", ctype="text/plain")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        ws = _WS(self.connection)
        self.fake.sockets.setdefault(client_id, []).append(ws)
        ws.send({"type": "status", "data": {**self.fake.status(), "sid": client_id}})
        ws.read_until_closed(self.rfile)
        socks = self.fake.sockets.get(client_id, [])
        if ws in socks:
            socks.remove(ws)
        self.close_connection = True


def image_workflow(**kw) -> dict:
    """An API-format text-to-image graph (checkpoint, LoRA, prompts, KSampler, SaveImage)."""
    from aimms_fast.demo.workflows import Generation, api_prompt
    return api_prompt(Generation("template prompt", "template negative", 5, loras=[("style.safetensors", 0.7)], **kw))


def video_workflow(**kw) -> dict:
    """The same graph ending in VideoHelperSuite's Video Combine."""
    from aimms_fast.demo.workflows import Generation, api_prompt
    return api_prompt(Generation("template prompt", "template negative", 5, frames=6, **kw))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--output", required=True, type=Path)
    ap.add_argument("--port", type=int, default=8188)
    a = ap.parse_args()
    fake = FakeComfy(a.output, port=a.port).start()
    print(f"test ComfyUI at {fake.url}, writing to {fake.output}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
