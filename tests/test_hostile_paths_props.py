"""Issue 14: property tests of the containment rule (project/layout.py) with Hypothesis.

Stored paths are generated from the pieces attacks are made of (`..`, `.`, absolute and drive
prefixes, UNC, backslashes, NUL, the project's own folder names, links inside the project that lead
in, out, to a sibling folder whose name starts like the project's, and a link loop) plus arbitrary
text and non-text values. Whatever comes in: Layout.abs / read_path / rel either refuse it with
OutsideProject or give a path that is, with every symlink resolved, inside the project's media/,
data/ or assets/, and never raise anything else."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aimms_fast.errors import OutsideProject
from aimms_fast.project.layout import ALLOWED_TOPS, RECORD_TOPS, Layout


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    base = tmp_path_factory.mktemp("contain")
    root = base / "proj"
    for d in ("media/1", "media/2", "data/trash", "assets/other", "logs"):
        (root / d).mkdir(parents=True)
    (root / "media/1/a.png").write_bytes(b"a")
    (root / "data/trash/x.txt").write_bytes(b"x")
    (root / "assets/other/b.png").write_bytes(b"b")
    (base / "outside").mkdir()
    (base / "outside/secret.txt").write_bytes(b"s")
    (base / "proj_evil/media").mkdir(parents=True)   # a sibling whose name starts like the project's
    os.symlink("1", root / "media/lin")                          # folder link inside
    os.symlink(base / "outside", root / "media/out_dir")         # folder link outside
    os.symlink("../../../proj_evil/media", root / "media/sib")    # to the sibling
    os.symlink(base / "outside/secret.txt", root / "media/1/out_file.png")
    os.symlink("a.png", root / "media/1/in_file.png")
    os.symlink("loop", root / "media/1/loop")
    os.symlink("../logs", root / "data/logs_link")               # inside the project, not an allowed top
    os.symlink("../data", root / "media/lnk_data")               # media/ folder leading into data/
    return Layout(root)


PIECES = ["..", ".", "", "media", "data", "assets", "logs", "trash", "1", "2", "a.png", "x.txt", "lin",
          "out_dir", "sib", "out_file.png", "in_file.png", "loop", "logs_link", "proj", "proj_evil",
          "outside", "secret.txt", "~", "C:", "\x00", " ", "a\\..\\..", "media\\..\\.."]
PREFIXES = ["", "", "", "/", "//", "\\\\", "C:\\", "c:/", "./", "../", "~/"]

stored_paths = st.one_of(
    st.builds(lambda pre, parts, seps: pre + "".join(p + s for p, s in zip(parts, seps)).rstrip("/\\"),
              st.sampled_from(PREFIXES), st.lists(st.sampled_from(PIECES), min_size=1, max_size=7),
              st.lists(st.sampled_from(["/", "\\", "//"]), min_size=7, max_size=7)),
    # rooted in an allowed folder, then the link names and climbs: the interesting half
    st.builds(lambda top, parts: "/".join([top, *parts]), st.sampled_from(ALLOWED_TOPS),
              st.lists(st.sampled_from(["1", "2", "lin", "out_dir", "sib", "a.png", "out_file.png", "in_file.png",
                                        "loop", "logs_link", "trash", "x.txt", "other", "b.png", "lnk_data", "shots.db",
                                        "..", "."]),
                       min_size=1, max_size=4)),
    st.text(max_size=40),
    st.builds(lambda t: "media/" + t, st.text(max_size=20)),
)
any_value = st.one_of(stored_paths, st.binary(max_size=20), st.integers(), st.none(), st.floats(allow_nan=False))


def _inside_allowed(lay: Layout, real: str) -> bool:
    root = os.path.realpath(lay.root)
    return any(real == os.path.join(root, t) or real.startswith(os.path.join(root, t) + os.sep) for t in ALLOWED_TOPS)


SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(value=any_value)
def test_abs_refuses_or_stays_inside(tree, value):
    lay = tree
    try:
        p = lay.abs(value)
    except OutsideProject as e:
        assert e.reason and "outside the project" in str(e)
        return
    assert isinstance(value, str) and "\x00" not in value
    lexical = os.path.normpath(p)
    assert lexical.startswith(str(lay.root) + os.sep)
    assert Path(lexical).relative_to(lay.root).parts[0] in ALLOWED_TOPS
    # the folders above the last component, symlinks resolved, are inside the allowed folders
    assert _inside_allowed(lay, os.path.realpath(p.parent)) or os.path.realpath(p.parent) == os.path.realpath(lay.root)


@SETTINGS
@given(value=any_value)
def test_read_path_target_is_inside(tree, value):
    lay = tree
    try:
        p = lay.read_path(value)
    except OutsideProject:
        assert lay.outside_reason(value) is not None
        return
    assert lay.outside_reason(value) is None
    real = os.path.realpath(p)
    assert _inside_allowed(lay, real), (value, real)


@SETTINGS
@given(value=stored_paths)
def test_record_paths_stay_in_media_or_assets(tree, value):
    try:
        p = tree.record_path(value)
    except OutsideProject:
        return
    assert Path(os.path.normpath(p)).relative_to(tree.root).parts[0] in RECORD_TOPS
    real_parent = Path(os.path.realpath(p.parent)).relative_to(os.path.realpath(tree.root))
    assert real_parent.parts == () or real_parent.parts[0] in RECORD_TOPS, (value, real_parent)


@SETTINGS
@given(value=stored_paths)
def test_rel_of_abs_names_the_same_file(tree, value):
    lay = tree
    try:
        p = lay.abs(value)
    except OutsideProject:
        return
    rel = lay.rel(p)
    assert os.path.realpath(lay.abs(rel)) == os.path.realpath(p)
    # normalising is idempotent
    parts = lay.check_rel(value)
    assert lay.check_rel("/".join(parts)) == parts


@SETTINGS
@given(parts=st.lists(st.sampled_from(PIECES), min_size=0, max_size=6))
def test_rel_refuses_file_system_paths_outside(tree, parts):
    lay = tree
    p = lay.root.parent.joinpath(*[x for x in parts if x and "\x00" not in x and ":" not in x]) \
        if parts and parts[0] not in ("proj",) else lay.root.joinpath(*[x for x in parts if x and "\x00" not in x])
    try:
        rel = lay.rel(p)
    except OutsideProject:
        return
    real_parent = os.path.realpath(os.path.dirname(os.path.abspath(p)))
    assert _inside_allowed(lay, os.path.join(real_parent, os.path.basename(p))) or rel.split("/")[0] in ALLOWED_TOPS
    assert lay.abs(rel)  # a stored path rel() produced is always accepted back


def test_known_escapes_are_refused(tree):
    lay = tree
    for bad in ["../outside/secret.txt", "media/../../outside/secret.txt", "/etc/passwd", "C:\\Windows\\x",
                "c:/x", "\\\\server\\share\\x", "//server/share/x", "media/out_dir/secret.txt",
                "media/sib/x.png", "media/1/\x00.png", b"media/1/a.png", None, 7, "logs/x", "",
                "data/logs_link/x", "~/x"]:
        with pytest.raises(OutsideProject):
            lay.abs(bad)
    with pytest.raises(OutsideProject):
        lay.read_path("media/1/out_file.png")
    assert lay.abs("media/1/out_file.png").is_symlink()        # the link itself may be moved
    assert lay.read_path("media/1/in_file.png").read_bytes() == b"a"
    assert lay.link_target("media/1/in_file.png") == "media/1/a.png"
    assert lay.abs("media\\1\\a.png") == lay.root / "media/1/a.png"
    assert lay.abs("media/lin/a.png").read_bytes() == b"a"      # a folder link inside is fine
    with pytest.raises(OutsideProject):
        lay.record_path("data/trash/x.txt")
    with pytest.raises(OutsideProject):   # a media/ folder link into data/: no record may name the database
        lay.record_path("media/lnk_data/shots.db")
    assert lay.abs("media/lnk_data/trash/x.txt").read_bytes() == b"x"
    with pytest.raises(OutsideProject):
        lay.trash_path("../shots.db")
