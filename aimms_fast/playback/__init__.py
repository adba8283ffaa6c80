"""Playback engine below the UI: open takes decoding ahead of the playhead (stream), the
wall-clock transport that drives one or more of them (transport). No dearpygui here."""
