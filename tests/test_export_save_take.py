"""Saving one take out of the project under `{shotname}_{filename}` or a custom name."""
from __future__ import annotations

import pytest

from aimms_fast.errors import AimmsError, NotFoundError
from aimms_fast.export.save_take import save_take_as
from aimms_fast.ops.shots import add_shot
from aimms_fast.ops.takes import add_takes
from aimms_fast.store.takes import get_take
from tests.conftest import make_video


def test_default_and_custom_names_never_overwrite(project, media_dir, tmp_path):
    sid = add_shot(project, shot_name="Opening: the café / night")
    [tid] = add_takes(project, sid, [make_video(media_dir / "clip.mp4")], storyboard="video")
    src = project.layout.abs(get_take(project.conn, tid).file_path)
    out = tmp_path / "saved"
    p = save_take_as(project, tid, out)
    assert p == out / f"Opening_the_café_night_{src.name}"
    assert p.read_bytes() == src.read_bytes()
    with pytest.raises(AimmsError, match="already exists") as e:
        save_take_as(project, tid, out)
    assert e.value.path == str(p)
    p2 = save_take_as(project, tid, out, exists="number")
    assert p2 == out / f"Opening_the_café_night_{src.stem}_2{src.suffix}"
    c = save_take_as(project, tid, out, name="for client")
    assert c == out / "for_client.mp4" and c.read_bytes() == src.read_bytes()
    assert save_take_as(project, tid, out, name="final.mp4") == out / "final.mp4"
    (out / "final.mp4").write_bytes(b"older")
    assert save_take_as(project, tid, out, name="final", exists="replace").read_bytes() == src.read_bytes()
    assert sorted(x.name for x in out.iterdir()) == sorted(
        [p.name, p2.name, "for_client.mp4", "final.mp4"])


def test_errors_name_the_problem(project, tmp_path):
    sid = add_shot(project, shot_name="Empty")      # AIMMS's zero-byte placeholder takes only
    placeholder = project.conn.execute("SELECT take_id FROM takes WHERE shot_id=? AND take_type='final_video'",
                                       (sid,)).fetchone()[0]
    with pytest.raises(AimmsError, match="placeholder"):
        save_take_as(project, placeholder, tmp_path)
    with pytest.raises(NotFoundError):
        save_take_as(project, "no-such-take", tmp_path)
    with pytest.raises(AimmsError, match="exists must be"):
        save_take_as(project, placeholder, tmp_path, exists="maybe")
    assert list(tmp_path.glob("*.mp4")) == []
