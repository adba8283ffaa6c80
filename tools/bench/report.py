"""How every benchmark ends: its JSON on stdout and in docs/bench/<name>.json (the numbers
docs/performance.md quotes)."""
from __future__ import annotations

from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]


def default_out(name: str) -> Path:
    return ROOT / "docs" / "bench" / f"{name}.json"


def publish(result: dict, out: str | Path) -> None:
    text = orjson.dumps(result, option=orjson.OPT_INDENT_2).decode()
    print(text)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
