"""Demo project generator: real H.264 clips and ComfyUI-style PNGs in an AIMMS 1.0 project.

`clips` makes the media (PyAV, Pillow), `workflows` the ComfyUI graphs they carry, `script` the
shot list text, `builder` puts it all into a project through the real ops (`add_shot`, `add_takes`).
"""
