"""Entry points of the review windows (player, compare, tournament, cut points), so pages and the
shot window name an action and this module opens the right window. Called on the UI thread."""
from __future__ import annotations

REVIEW_ACTIONS = ("play", "compare_add", "tournament", "cutpoints")


def dispatch(app, action: str, *, take_id: str | None = None, shot_id: int | None = None,
             storyboard: str = "video") -> bool:
    """Run a review action for a take / shot; True if it was one of ours."""
    if action not in REVIEW_ACTIONS:
        return False
    if app.project is None:
        return True
    if action == "cutpoints":
        from aimms_fast.ui.cutpoints import open_cutpoints
        open_cutpoints(app)
    elif action == "tournament":
        if shot_id is None:
            app.toast("select a shot first")
            return True
        from aimms_fast.ui.tournament import open_tournament
        open_tournament(app, shot_id, storyboard)
    elif not take_id:
        app.toast("this shot has no take to show")
    elif action == "play":
        from aimms_fast.ui.player import open_player
        open_player(app, take_id)
    else:
        from aimms_fast.ui.compare import add_to_compare
        add_to_compare(app, take_id)
    return True
