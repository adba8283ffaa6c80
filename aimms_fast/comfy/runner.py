"""The job runner: submits `new` jobs to ComfyUI, follows them on the WebSocket, and files their
results as takes (comfy/filing.py).

Progress comes from ComfyUI's WebSocket messages (`execution_start`, `executing`, `progress`,
`executed`, `execution_success`, `execution_error`, `execution_interrupted`; `executing` with node
None is the older end-of-prompt signal). The WebSocket is a convenience, not the record: every
`poll_s` and right after a (re)connect each active job is looked up in `/history/{prompt_id}`, so a
dropped socket, a restart of the app, or a missed message only delays a job. A job whose prompt
ComfyUI neither ran nor queues (ComfyUI restarted) fails with a note to retry it.

Threads: `start()` runs the loop on its own thread with its own connection (Project.for_job());
`run()` runs it on the calling thread (the CLI's `--wait`). `on_event` is called on the runner's
thread with a `JobEvent`; it must not call Dear PyGui (the UI queues events and drains them).
"""
from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from aimms_fast.comfy import filing
from aimms_fast.comfy.client import ComfyClient, ComfyUnreachable, PromptRejected, node_errors_text, read_message
from aimms_fast.errors import AimmsError
from aimms_fast.ops.files import VIDEO_EXTS
from aimms_fast.store import comfy as S
from aimms_fast.store.db import transaction

log = logging.getLogger(__name__)
JOB_FOLDER = "(fetched from ComfyUI)"   # Inbox rows of job results: the file came over /view


@dataclass
class JobEvent:
    job_id: str | None
    state: str
    progress: float = 0.0
    node: str | None = None
    message: str | None = None
    shot_id: int | None = None
    shot_name: str | None = None
    take_ids: list[str] = field(default_factory=list)


@dataclass
class _Conn:
    client: ComfyClient
    ws: object | None = None
    polled: dict = field(default_factory=dict)     # prompt_id -> monotonic time of the last /history look


class JobRunner:
    def __init__(self, project, *, on_event: Callable[[JobEvent], None] | None = None, poll_s: float = 2.0,
                 recv_s: float = 0.25):
        self._project = project
        self.on_event = on_event
        self.poll_s = poll_s
        self.recv_s = recv_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._conns: dict[str, _Conn] = {}
        self.status = "idle"          # one line for the status bar (read from any thread)

    # -- lifecycle (any thread) ------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="comfy-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _main(self) -> None:
        try:
            with self._project.for_job() as p:
                self.run(p)
        except Exception:   # the loop catches per job; this is a bug: log it, the app keeps running
            log.exception("ComfyUI job runner stopped")
            self.status = "ComfyUI jobs stopped (see the log)"

    # -- the loop (the thread that owns `p`) ----------------------------------------------------
    def run(self, p, *, until_idle: bool = False, fail_unreachable: bool = False,
            timeout: float | None = None) -> None:
        """Work until stopped, or with `until_idle` until no job is active. `fail_unreachable`
        raises ComfyUnreachable instead of waiting for the server to come up."""
        filing.recover(p)
        deadline = time.monotonic() + timeout if timeout else None
        try:
            while not self._stop.is_set():
                active = S.list_jobs(p.conn, states=S.ACTIVE_JOB_STATES)
                if not active:
                    self.status = "idle"
                    if until_idle:
                        return
                    self._wake.wait(self.poll_s)
                    self._wake.clear()
                    continue
                if deadline and time.monotonic() > deadline:
                    raise AimmsError(f"{len(active)} ComfyUI job(s) still running after {timeout:.0f} s",
                                     hint="follow them with `aimms jobs PATH --wait`")
                by_url: dict[str, list] = {}
                for j in active:
                    by_url.setdefault(j.url, []).append(j)
                for url, jobs in by_url.items():
                    try:
                        self._step(p, url, jobs)
                    except ComfyUnreachable as e:
                        self._drop(url)
                        self.status = str(e.message)
                        if fail_unreachable:
                            raise
                        self._wake.wait(self.poll_s)
                        self._wake.clear()
        finally:
            for url in list(self._conns):
                self._drop(url)

    def submit_new(self, p) -> None:
        """Submit every `new` job once and return (the CLI's `queue` without --wait)."""
        filing.recover(p)
        try:
            for j in S.list_jobs(p.conn, states=("new",)):
                self._submit(p, self._conn(j.url), j)
        finally:
            for url in list(self._conns):
                self._drop(url)

    def _drop(self, url: str) -> None:
        c = self._conns.pop(url, None)
        if c is not None and c.ws is not None:
            try:
                c.ws.close()
            except Exception:  # closing a dead socket: nothing to recover
                pass

    def _conn(self, url: str) -> _Conn:
        c = self._conns.get(url)
        if c is None:
            c = _Conn(ComfyClient(url))
            self._conns[url] = c
        if c.ws is None:
            c.ws = c.client.connect_ws(self.recv_s)
            c.polled.clear()          # reconnected: look every job up in /history now
        return c

    def _step(self, p, url: str, jobs: list[S.JobRow]) -> None:
        c = self._conn(url)
        now = time.monotonic()
        for j in jobs:
            if j.state == "new":
                self._submit(p, c, j)
            elif now - c.polled.get(j.prompt_id, 0.0) >= self.poll_s:
                c.polled[j.prompt_id] = now
                self._poll(p, c, j)
        end = time.monotonic() + self.recv_s * 4
        while time.monotonic() < end and not self._stop.is_set():
            try:
                msg = read_message(c.ws)
            except ConnectionError as e:
                log.info("ComfyUI WebSocket at %s dropped (%s); jobs continue from /history", url, e)
                c.ws = None
                return
            if msg is None:
                return
            if msg:
                self._on_message(p, c, msg)
        self.status = self._summary(p)

    # -- jobs ------------------------------------------------------------------------------------
    def _set(self, p, j: S.JobRow, **values) -> S.JobRow:
        with transaction(p.db) as conn:
            changed = S.update_job(conn, j.job_id, only_if_active=True, **values)
        j = S.get_job(p.conn, j.job_id)
        if changed and self.on_event:
            self.on_event(JobEvent(j.job_id, j.state, j.progress, j.node, j.message, j.shot_id, j.shot_name,
                                   j.take_ids))
        return j

    def _submit(self, p, c: _Conn, j: S.JobRow) -> None:
        if j.prompt_id:    # stored before a POST that may not have happened (crash): ask first
            if c.client.history(j.prompt_id) is not None or j.prompt_id in set().union(*c.client.queued_ids()):
                self._set(p, j, state="submitted")
                return
        body = json.loads(j.graph_json)
        graph = body["graph"]
        try:
            for ref in body.get("refs", []):
                graph[ref["node"]]["inputs"][ref["input"]] = c.client.upload_image(p.layout.abs(ref["rel"]))
        except (OSError, AimmsError) as e:
            if isinstance(e, ComfyUnreachable):
                raise
            self._set(p, j, state="failed", message=f"reference image: {e}")
            return
        pid = j.prompt_id or str(uuid.uuid4())
        if not j.prompt_id:
            j = self._set(p, j, prompt_id=pid)
        if not j.active:
            return                        # cancelled meanwhile (UI thread): never sent
        try:
            got = c.client.queue_prompt(graph, prompt_id=pid, extra_pnginfo={"aimms_job": j.job_id})
        except PromptRejected as e:
            self._set(p, j, state="failed", message="; ".join([e.message] + node_errors_text(e.node_errors))[:2000],
                      node_errors_json=json.dumps(e.node_errors))
            return
        if got.get("prompt_id") and got["prompt_id"] != pid:   # an older ComfyUI chose its own id
            pid = got["prompt_id"]
        self._set(p, j, prompt_id=pid, state="submitted", message=None,
                  node_errors_json=json.dumps(got.get("node_errors") or {}) if got.get("node_errors") else None)

    def _poll(self, p, c: _Conn, j: S.JobRow) -> None:
        h = c.client.history(j.prompt_id)
        if h is None:
            running, pending = c.client.queued_ids()
            if j.prompt_id in running or j.prompt_id in pending:
                if j.prompt_id in running and j.state == "submitted":
                    self._set(p, j, state="running")
                return
            h = c.client.history(j.prompt_id)    # it may have finished between the two calls
            if h is None:
                self._set(p, j, state="failed", message="ComfyUI no longer knows this job (was it restarted?); "
                                                        "retry it")
                return
        status = h.get("status") or {}
        if status.get("status_str") == "error":
            self._fail_from_messages(p, j, status.get("messages") or [])
        elif status.get("completed", True):
            self._fetch(p, c, j, h.get("outputs") or {})

    def _fail_from_messages(self, p, j, messages) -> None:
        for m in messages:
            if isinstance(m, list) and len(m) == 2 and m[0] == "execution_error":
                self._execution_error(p, j, m[1])
                return
        if any(isinstance(m, list) and m and m[0] == "execution_interrupted" for m in messages):
            self._set(p, j, state="failed", message="interrupted in ComfyUI")
            return
        self._set(p, j, state="failed", message="ComfyUI reports an error (no details)")

    def _execution_error(self, p, j, d: dict) -> None:
        nid, ntype = str(d.get("node_id", "?")), d.get("node_type", "?")
        text = f"{d.get('exception_type', 'error')}: {d.get('exception_message', '').strip()}"
        errs = {nid: {"class_type": ntype, "errors": [{"message": text}]}}
        self._set(p, j, state="failed", message=f"node {nid} ({ntype}): {text}"[:2000], node_errors_json=json.dumps(errs))

    def _on_message(self, p, c: _Conn, msg: dict) -> None:
        data = msg.get("data") or {}
        pid = data.get("prompt_id")
        if not pid:
            return
        j = S.job_by_prompt(p.conn, str(pid))
        if j is None or not j.active or j.state == "fetching":
            return
        kind = msg.get("type")
        if kind == "execution_start":
            self._set(p, j, state="running", progress=0.0)
        elif kind == "executing":
            if data.get("node") is None:
                self._poll(p, c, j)
            else:
                node = (json.loads(j.graph_json)["graph"].get(str(data["node"])) or {}).get("class_type")
                self._set(p, j, state="running", node=node or str(data["node"]))
        elif kind == "progress" and data.get("max"):
            self._set(p, j, state="running", progress=min(1.0, float(data.get("value", 0)) / float(data["max"])))
        elif kind == "execution_error":
            self._execution_error(p, j, data)
        elif kind == "execution_interrupted":
            self._set(p, j, state="failed", message="interrupted in ComfyUI")
        elif kind == "execution_success":
            self._poll(p, c, j)

    def _fetch(self, p, c: _Conn, j: S.JobRow, outputs: dict) -> None:
        j = self._set(p, j, state="fetching", outputs_json=json.dumps(outputs), progress=1.0)
        if j.state != "fetching":
            return                        # cancelled meanwhile: its outputs stay in ComfyUI's folder
        results = results_of(outputs)
        if not results:
            self._set(p, j, state="failed", message="the workflow finished without saving a file")
            return
        tmp_root = p.layout.cache / "comfy_downloads"
        tmp_root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=tmp_root))
        ids: list[str] = []
        try:
            for main, comp in results:
                local = c.client.download(main["filename"], main.get("subfolder", ""), main.get("type", "output"),
                                          tmp / main["filename"])
                local_comp = None
                if comp is not None:
                    local_comp = c.client.download(comp["filename"], comp.get("subfolder", ""),
                                                   comp.get("type", "output"), tmp / comp["filename"])
                storyboard = "video" if local.suffix.lower() in VIDEO_EXTS else "image"
                source = "/".join(x for x in (main.get("subfolder", "").strip("/"), main["filename"]) if x)
                ids += filing.file_result(p, shot_id=j.shot_id, storyboard=storyboard, main=local,
                                          companion=local_comp, source=source, folder=JOB_FOLDER,
                                          reason="job", job_id=j.job_id).take_ids
        except ComfyUnreachable:
            self._set(p, j, state="running")      # fetch again once the server answers
            raise
        except (AimmsError, OSError) as e:
            self._set(p, j, state="failed", message=f"filing the result failed: {e}")
            return
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self._set(p, j, state="done", take_ids_json=json.dumps(ids), node=None, message=None)

    def _summary(self, p) -> str:
        counts = S.job_counts(p.conn)
        running = counts.get("running", 0) + counts.get("fetching", 0)
        waiting = counts.get("new", 0) + counts.get("submitted", 0)
        return f"ComfyUI: {running} running, {waiting} queued" if running or waiting else "idle"


def results_of(outputs: dict) -> list[tuple[dict, dict | None]]:
    """(main file, workflow PNG or None) for every saved output in a history `outputs` object:
    SaveImage's `images`, VideoHelperSuite's `gifs` (whose `workflow` names the PNG it saved
    first). Previews (`type` temp) are skipped."""
    out = []
    for nid in sorted(outputs, key=lambda k: (len(str(k)), str(k))):
        o = outputs[nid] or {}
        for g in o.get("gifs", []) or []:
            if g.get("type", "output") != "output":
                continue
            comp = None
            if g.get("workflow"):
                comp = {"filename": g["workflow"], "subfolder": g.get("subfolder", ""), "type": "output"}
            out.append((g, comp))
        wf = {c["filename"] for _, c in out if c}
        for im in o.get("images", []) or []:
            if im.get("type", "output") == "output" and im.get("filename") not in wf:
                out.append((im, None))
    return out
