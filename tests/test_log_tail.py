"""project/log_tail.py: the Logs page reads a big log's tail, follows appends with one stat, loads
older chunks on demand, survives rotation, and filters by level, words and mutations."""
from __future__ import annotations

import logging

from aimms_fast.project.log_tail import LEVELS, LogTail, matching
from aimms_fast.project.logs import close_logger, log_mutation, project_logger


def write(path, lines):
    with open(path, "a", encoding="utf-8") as f:
        for ln in lines:
            f.write(ln + "\n")


def test_tail_reads_only_the_end_and_follows_appends(tmp_path):
    p = tmp_path / "big.log"
    write(p, [f"2026-12-04T10:00:{i % 60:02d}.000Z INFO line {i:06d} " + "x" * 60 for i in range(20000)])
    size = p.stat().st_size
    t = LogTail(p, chunk=64 * 1024)
    n = t.load()
    assert 0 < n < 20000 and t.start > 0 and t.end == size          # only the last 64 KiB
    assert t.lines[-1].text.split()[3] == "019999" and t.lines[0].text.startswith("2026-")  # no cut line
    assert t.poll() == 0
    with open(p, "a", encoding="utf-8") as f:
        f.write("2026-12-04T11:00:00.000Z ERROR boom\nTraceback (most recent call last):\n  File x\n")
        f.write("2026-12-04T11:00:01.000Z INFO half a li")              # not finished yet
    assert t.poll() == 3
    assert [ln.level for ln in t.lines[-3:]] == [3, 3, 3]               # traceback lines keep ERROR
    with open(p, "a", encoding="utf-8") as f:
        f.write("ne\n")
    assert t.poll() == 1 and t.lines[-1].text.endswith("half a line")
    before = len(t.lines)
    added = t.load_older()
    assert added > 0 and len(t.lines) == before + added and t.lines[added].text == t.lines[added].text
    nums = [int(ln.text.split()[3]) for ln in t.lines if " line " in ln.text]
    assert nums == sorted(nums) and len(set(nums)) == len(nums)          # contiguous, no duplicates
    while t.has_older:
        t.load_older()
    assert int(t.lines[0].text.split()[3]) == 0


def test_rotation_reloads(tmp_path):
    log_file = tmp_path / "logs" / "project_log.log"
    log = project_logger(log_file, max_bytes=3000, backups=2)
    t = LogTail(log_file)
    try:
        log.info("first")
        t.load()
        for i in range(100):
            log.info("n %03d %s", i, "y" * 30)
        r = t.poll()
        assert r == -1                             # the file was replaced: tail reloaded
        assert t.lines[-1].text.endswith("n 099 " + "y" * 30)
    finally:
        close_logger(log)


def test_filters_by_level_words_and_mutation(tmp_path):
    log_file = tmp_path / "logs" / "project_log.log"
    log = project_logger(log_file)
    try:
        log.info("opened project")
        log_mutation(log, "takes", label="Starred take 03 of EXT_ROOF_010", entry=4, takes=["abc"], shots=[3])
        log.warning("media problem: media/3/video_02.mp4: not decodable")
        log.error("could not write the CSV")
    finally:
        close_logger(log)
    with open(log_file, "a", encoding="utf-8") as f:     # an older AIMMS-style line
        f.write("2026-12-04 15:53:13,790 INFO [aimms.project./tmp/x] add_shot 1 EXT_ROOFTOP_DAY_010\n")
    t = LogTail(log_file)
    t.load()
    L = t.lines
    assert [LEVELS[ln.level] for ln in L] == ["INFO", "INFO", "WARNING", "ERROR", "INFO"]
    assert matching(L, min_level=2) == [2, 3]
    assert matching(L, mutations_only=True) == [1]
    assert matching(L, query="EXT_roof starred") == [1]
    assert matching(L, query="rooftop") == [4]
    assert matching(L, min_level=1, query="csv", start=3) == [3]
    assert logging.getLevelName(logging.WARNING) == LEVELS[2]
