"""Images page: the base-image storyboard (one card per shot; starred reference image first)."""
from aimms_fast.ui.storyboard import StoryboardPage


class ImagesPage(StoryboardPage):
    name = "images"
    title = "Images"
    storyboard = "image"
