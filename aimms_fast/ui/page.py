"""What every page of the viewer provides to the app shell."""
from __future__ import annotations


class Page:
    """A tab of the main window. `build` runs once at start-up (no project yet); `on_project` runs
    when a project is opened (or closed: None). `tick` runs every frame while the page is visible
    and returns True while it still has work (keeps the loop at full frame rate)."""

    name = ""
    title = ""
    key_context: str | None = None   # keys.py context handled by on_action while visible

    def __init__(self, app):
        self.app = app
        self.visible = False

    @property
    def project(self):
        return self.app.project

    def build(self, parent) -> None:
        raise NotImplementedError

    def on_project(self, project) -> None:
        pass

    def on_show(self) -> None:
        pass

    def on_hide(self) -> None:
        pass

    def tick(self) -> bool:
        return False

    def refresh(self) -> None:
        """F5: re-read from disk."""
        self.on_project(self.project)

    def on_action(self, action: str) -> bool:
        """A keyboard action from keys.py for this page's context; True if handled."""
        return False

    def on_tiles(self, events) -> None:
        """Thumbnail events from the workers (rel_path, state, reason)."""

    def on_data_changed(self, what: str, shot_ids=None) -> None:
        """Shots or takes changed somewhere else in the app ('shots' | 'takes' | 'all')."""
