"""Videos page: the video storyboard (one card per shot; the chosen take, hover to scrub its
filmstrip, `,`/`.` to step it; badge when the workflow PNG is missing)."""
from aimms_fast.ui.storyboard import StoryboardPage


class VideosPage(StoryboardPage):
    name = "videos"
    title = "Videos"
    storyboard = "video"
