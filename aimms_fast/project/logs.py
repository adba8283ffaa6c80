"""Project log: logs/project_log.log (AIMMS's file), one logger per open project."""
from __future__ import annotations

import logging
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"


def project_logger(log_file: Path, *, readonly: bool = False) -> logging.Logger:
    name = f"aimms.project.{log_file.parent.parent.resolve()}"
    log = logging.getLogger(name)
    log.setLevel(logging.INFO)
    log.propagate = False
    if not log.handlers:
        handler: logging.Handler
        try:
            if readonly:
                raise PermissionError
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(log_file, encoding="utf-8")
        except OSError:
            handler = logging.NullHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        log.addHandler(handler)
    return log


def close_logger(log: logging.Logger) -> None:
    for h in list(log.handlers):
        h.close()
        log.removeHandler(h)
