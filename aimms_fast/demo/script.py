"""The demo's shot list: a made-up thriller with sections, slug-style names, prompts and dialogue.

Deterministic for a seed, so two builds with the same arguments give the same project text.
"""
from __future__ import annotations

import random

SEQUENCES = ["The Offer", "Night Shift", "The Courier", "Rooftop", "Cold Trail", "The Archive",
             "Crossing", "Harbour Lights", "The Vault", "Static", "Last Train", "Daybreak"]

# (slug, INT/EXT, what the prompt says about the place)
LOCATIONS = [
    ("OFFICE", "INT", "a cluttered newspaper office, venetian blinds, stacks of paper"),
    ("WAREHOUSE", "INT", "an abandoned warehouse, dusty light shafts, rusted shelving"),
    ("ROOFTOP", "EXT", "a rain-soaked rooftop above a neon city"),
    ("DINER", "INT", "a 1970s roadside diner, red vinyl booths, chrome counter"),
    ("APARTMENT", "INT", "a small apartment with peeling wallpaper and a flickering lamp"),
    ("STREET", "EXT", "a narrow cobblestone street with steam rising from grates"),
    ("FOREST", "EXT", "a misty pine forest with a gravel road"),
    ("HARBOUR", "EXT", "an industrial harbour with stacked containers and cranes"),
    ("SUBWAY", "INT", "an empty subway platform under green fluorescent light"),
    ("LAB", "INT", "a sterile research lab with glass walls and blinking servers"),
]
TIMES = [("DAY", "soft overcast daylight"), ("NIGHT", "sodium street lights and deep shadows"),
         ("DUSK", "warm golden hour backlight"), ("DAWN", "cold blue pre-dawn light")]
CHARACTERS = [("MAYA", "a young investigative reporter in a worn trench coat"),
              ("THEO", "a nervous archivist with round glasses"),
              ("DR. OKAFOR", "a composed scientist in a grey suit"),
              ("THE COURIER", "a silent courier in a black motorcycle jacket")]
SHOT_TYPES = ["Wide shot", "Medium shot", "Close-up", "Over-the-shoulder", "Low angle", "Tracking shot",
              "Insert", "Two-shot"]
ACTIONS = ["studies a photograph", "hides an envelope", "looks over her shoulder", "answers a ringing phone",
           "runs towards the exit", "waits in silence", "lights a match", "reads a coded message",
           "opens a locked drawer", "watches the door"]
CAMERA = ["slow dolly in", "handheld follow", "static frame, subtle parallax", "crane up", "slow pan left",
          "push in to close-up", "orbit around the subject"]
AMBIENCE = ["rain streaks the window", "dust drifts through the light", "neon signs flicker",
            "steam curls upward", "leaves blow across the ground", "a train passes in the background"]
LINES = ["We're not supposed to be here.", "Who sent you?", "It was never about the money.",
         "Keep the engine running.", "You have until midnight.", "Read it again. Slowly.",
         "They already know.", "I kept a copy."]
COLOURS = ["teal and orange", "desaturated blue-green", "warm amber", "high-contrast monochrome",
           "muted pastel", "neon magenta and cyan"]
LORAS = ["film_grain_v2.safetensors", "cinematic_lighting_xl.safetensors", "anamorphic_flare.safetensors",
         "maya_character_v3.safetensors"]
IMAGE_NEGATIVE = "blurry, lowres, watermark, text, extra fingers, deformed hands, oversaturated"
VIDEO_NEGATIVE = "flicker, jitter, morphing faces, warped geometry, static frame, low quality"
CHECKPOINTS = ["sd_xl_base_1.0.safetensors", "juggernautXL_v9.safetensors", "realvisxlV40.safetensors"]
SAMPLERS = [("euler", "normal"), ("dpmpp_2m", "karras"), ("euler_ancestral", "normal"), ("dpmpp_sde", "karras")]


def section_names(shots: int) -> list[str]:
    """Three acts for a short film; longer projects get more sequences spread over the acts."""
    n = max(3, min(len(SEQUENCES), round(shots / 50)))
    return [f"Act {1 + 3 * i // n}: {SEQUENCES[i]}" for i in range(n)]


def shot_rows(count: int, seed: int) -> list[dict]:
    """Field dicts for `add_shot`, in story order."""
    rng = random.Random(seed)
    sections = section_names(count)
    rows = []
    for i in range(count):
        slug, ie, place = rng.choice(LOCATIONS)
        tod, light = rng.choice(TIMES)
        name, who = rng.choice(CHARACTERS)
        shot_type, action = rng.choice(SHOT_TYPES), rng.choice(ACTIONS)
        colour = rng.choice(COLOURS)
        row = {
            "shot_name": f"{ie}_{slug}_{tod}_{(i + 1) * 10:03d}",
            "section": sections[i * len(sections) // count],
            "description": f"{shot_type} of {name.title()} who {action} in the {slug.lower().replace('_', ' ')}.",
            "image_prompt": f"cinematic film still, {shot_type.lower()}, {who} {action}, {place}, {light}, "
                            f"{colour} colour grade, 35mm, shallow depth of field",
            "video_prompt": f"{rng.choice(CAMERA)}, {who} {action}, {rng.choice(AMBIENCE)}, {light}",
            "colour_scheme_image": colour,
            "time_of_day": tod.title(),
            "location": f"{ie}. {slug.replace('_', ' ').title()}",
            "country": rng.choice(["USA", "UK", "Germany", "Japan", "Canada"]),
            "year": str(rng.choice([1974, 1989, 2003, 2031])),
            "image_negative": IMAGE_NEGATIVE,
            "video_negative": VIDEO_NEGATIVE,
        }
        if rng.random() < 0.5:
            row["dialogue"] = f"{name}: {rng.choice(LINES)}"
        for k in range(rng.choice([0, 0, 1, 2, 3])):
            row[f"lora_{k + 1}"] = f"{LORAS[(i + k) % len(LORAS)]}:{rng.choice([0.4, 0.6, 0.8])}"
        rows.append(row)
    return rows
