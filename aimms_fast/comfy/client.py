"""A ComfyUI server over its HTTP API and WebSocket (the routes of ComfyUI's server.py, used the
way its script_examples/websockets_api_example.py uses them): POST /prompt, GET /history/{id},
GET /view, POST /upload/image, GET+POST /queue, POST /interrupt, WebSocket /ws?clientId=.

HTTP is urllib (no extra dependency); the WebSocket is websocket-client, as in ComfyUI's examples.
Every network failure becomes one `ComfyUnreachable` naming the URL; a rejected prompt becomes
`PromptRejected` carrying ComfyUI's `node_errors`. Any thread may use a client; one WebSocket
belongs to the thread that reads it.
"""
from __future__ import annotations

import json
import mimetypes
import shutil
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from aimms_fast.errors import AimmsError

TIMEOUT = 10.0     # seconds per HTTP call: ComfyUI answers from memory; a longer wait is a dead server


class ComfyUnreachable(AimmsError):
    """No ComfyUI answers at the URL (not running, wrong port, firewall)."""


class PromptRejected(AimmsError):
    """ComfyUI refused the graph (validation): `node_errors` maps node id -> its errors."""

    def __init__(self, message: str, node_errors: dict | None = None, **kw):
        self.node_errors = node_errors or {}
        super().__init__(message, **kw)


def normalize_url(url: str) -> str:
    url = (url or "").strip().rstrip("/")
    if not url:
        raise AimmsError("no ComfyUI URL set", field="comfyui_URL",
                         hint="set it in Settings or pass --url http://127.0.0.1:8188")
    if "://" not in url:
        url = "http://" + url
    return url


def node_errors_text(node_errors: dict) -> list[str]:
    """One line per node error: 'node 6 (CLIPTextEncode): Required input is missing: clip'."""
    lines = []
    for nid, e in (node_errors or {}).items():
        ctype = e.get("class_type", "") if isinstance(e, dict) else ""
        for err in (e.get("errors", []) if isinstance(e, dict) else []) or [{}]:
            msg = err.get("message", "error") if isinstance(err, dict) else str(err)
            det = err.get("details") if isinstance(err, dict) else None
            lines.append(f"node {nid} ({ctype}): {msg}" + (f": {det}" if det else ""))
    return lines


class ComfyClient:
    def __init__(self, url: str, *, client_id: str | None = None, timeout: float = TIMEOUT):
        self.url = normalize_url(url)
        self.client_id = client_id or uuid.uuid4().hex
        self.timeout = timeout

    # -- HTTP --------------------------------------------------------------------------------
    def _open(self, path: str, *, data: bytes | None = None, headers: dict | None = None):
        req = urllib.request.Request(self.url + path, data=data, headers=headers or {})
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError:
            raise
        except (urllib.error.URLError, OSError, socket.timeout) as e:
            reason = getattr(e, "reason", None) or e
            raise ComfyUnreachable(f"cannot reach ComfyUI at {self.url} ({reason})",
                                   hint="start ComfyUI, or check the URL in Settings / --url") from None

    def _json(self, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        try:
            with self._open(path, data=data, headers=headers) as r:
                text = r.read()
        except urllib.error.HTTPError as e:
            raise AimmsError(f"ComfyUI at {self.url} answered {e.code} to {path}") from None
        return json.loads(text) if text.strip() else {}

    def queue_prompt(self, graph: dict, *, prompt_id: str | None = None, extra_pnginfo: dict | None = None) -> dict:
        """POST /prompt; returns {'prompt_id', 'number', 'node_errors'} or raises PromptRejected."""
        body = {"prompt": graph, "client_id": self.client_id}
        if prompt_id:
            body["prompt_id"] = prompt_id     # ComfyUI takes a caller's id since 2025; older ones make one
        if extra_pnginfo:
            body["extra_data"] = {"extra_pnginfo": extra_pnginfo}
        data = json.dumps(body).encode()
        try:
            with self._open("/prompt", data=data, headers={"Content-Type": "application/json"}) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            try:
                err = json.loads(e.read() or b"{}")
            except ValueError:
                err = {}
            info = err.get("error")
            msg = info.get("message") if isinstance(info, dict) else (info or f"HTTP {e.code}")
            if isinstance(info, dict) and info.get("details"):
                msg += f": {info['details']}"
            raise PromptRejected(f"ComfyUI refused the workflow: {msg}", err.get("node_errors") or {},
                                 hint="see the node errors; fix the workflow or its bindings") from None

    def history(self, prompt_id: str) -> dict | None:
        """The history entry of one prompt, or None while ComfyUI has none (queued/running/unknown)."""
        got = self._json(f"/history/{urllib.parse.quote(prompt_id)}")
        return got.get(prompt_id) if isinstance(got, dict) else None

    def queue(self) -> dict:
        return self._json("/queue")

    def queued_ids(self) -> tuple[set[str], set[str]]:
        """(running prompt ids, pending prompt ids) from GET /queue."""
        q = self.queue()
        ids = lambda items: {str(it[1]) for it in items or [] if isinstance(it, list) and len(it) > 1}
        return ids(q.get("queue_running")), ids(q.get("queue_pending"))

    def delete_queued(self, prompt_ids: list[str]) -> None:
        self._json("/queue", {"delete": list(prompt_ids)})

    def interrupt(self, prompt_id: str | None = None) -> None:
        self._json("/interrupt", {"prompt_id": prompt_id} if prompt_id else {})

    def download(self, filename: str, subfolder: str, folder_type: str, dest: Path) -> Path:
        """GET /view into dest (streamed). `filename` comes from the server's history: a name with a
        folder in it ('../../x', '/etc/x') is refused before anything is written (issue 14)."""
        if (not isinstance(filename, str) or filename in ("", ".", "..") or "/" in filename
                or "\\" in filename or "\x00" in filename):
            raise AimmsError(f"ComfyUI at {self.url} named an output {filename!r}: not a plain file name",
                             hint="the server's history is damaged or hostile; nothing was downloaded")
        q = urllib.parse.urlencode({"filename": filename, "subfolder": subfolder, "type": folder_type})
        try:
            with self._open(f"/view?{q}") as r, open(dest, "wb") as f:
                shutil.copyfileobj(r, f, 1 << 20)
        except urllib.error.HTTPError as e:
            raise AimmsError(f"ComfyUI at {self.url} has no output {subfolder}/{filename} ({e.code})") from None
        return dest

    def upload_image(self, path: Path, *, subfolder: str = "aimms") -> str:
        """POST /upload/image (multipart, overwrite); returns the name a LoadImage node takes."""
        boundary = uuid.uuid4().hex
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        parts = [(f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{path.name}"\r\n'
                  f"Content-Type: {ctype}\r\n\r\n").encode(), path.read_bytes(), b"\r\n"]
        for k, v in (("overwrite", "true"), ("subfolder", subfolder), ("type", "input")):
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
        parts.append(f"--{boundary}--\r\n".encode())
        try:
            with self._open("/upload/image", data=b"".join(parts),
                            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}) as r:
                got = json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise AimmsError(f"ComfyUI at {self.url} refused the upload of {path.name} ({e.code})") from None
        return f"{got['subfolder']}/{got['name']}" if got.get("subfolder") else got["name"]

    # -- WebSocket ---------------------------------------------------------------------------
    def ws_url(self) -> str:
        scheme = "wss" if self.url.startswith("https") else "ws"
        return f"{scheme}://{self.url.split('://', 1)[1]}/ws?clientId={self.client_id}"

    def connect_ws(self, timeout: float = 1.0):
        """An open websocket-client WebSocket (recv times out after `timeout` so the reader can
        check for cancel and for jobs to poll)."""
        import websocket
        try:
            ws = websocket.create_connection(self.ws_url(), timeout=self.timeout)
        except (OSError, websocket.WebSocketException) as e:
            raise ComfyUnreachable(f"cannot open ComfyUI's WebSocket at {self.ws_url()} ({e})",
                                   hint="start ComfyUI, or check the URL in Settings / --url") from None
        ws.settimeout(timeout)
        return ws


def read_message(ws) -> dict | None:
    """The next JSON message, None on a receive timeout; binary frames (previews) are skipped.
    Raises ConnectionError when the server closed or dropped the socket."""
    import websocket
    try:
        msg = ws.recv()
    except websocket.WebSocketTimeoutException:
        return None
    except (websocket.WebSocketConnectionClosedException, OSError) as e:
        raise ConnectionError(str(e) or "WebSocket closed") from None
    if msg == "":                      # websocket-client's answer to a close frame
        raise ConnectionError("WebSocket closed")
    if isinstance(msg, bytes) or not msg:
        return {}
    try:
        return json.loads(msg)
    except ValueError:
        return {}
