"""Which AIMMS shot field a foreign shot list's column means, by its header (issue 12, item 1).

Shot lists from StudioBinder, Celtx, Shot Designer, spreadsheets and LLMs name their columns in
their own words and languages ("Scene", "Shot #", "Set", "Beschreibung", "Tageszeit", "Plano").
Telling "Set" means `location` is a matter of vocabulary, not of string distance, so the core is a
table of phrases per field (English, German, French, Spanish, Italian), and the fuzzy part only
forgives spelling ("Descripton", "Lokation", "Time-of-Day"). That fuzzy part is the standard
library's difflib.SequenceMatcher: the headers are a few dozen short strings compared against ~300
phrases (well under a millisecond each file), so rapidfuzz's speed buys nothing here and would be
one more compiled dependency. Words shorter than five letters must match exactly: at that length
one letter of edit distance turns "Lens" into "Lines".

Pure functions, no I/O; any thread.
"""
from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass

NOTES = "notes"      # pseudo-field: "Col: value" lines appended to the shot's description
FUZZY_MIN = 0.84     # SequenceMatcher ratio below which a spelling is not taken as the phrase

# AIMMS field -> phrases that name it (normalised with `phrase`; order does not matter).
FIELD_PHRASES: dict[str, list[str]] = {
    "order_number": ["order", "order number", "order no", "number", "no", "nr", "#", "n", "num", "seq no",
                     "running order", "position", "pos", "reihenfolge", "lfd nr", "laufende nummer",
                     "numero", "ordre", "orden", "ordine", "index", "idx"],
    "shot_name": ["shot", "shot name", "shot number", "shot no", "shot nr", "shot #", "shot code", "shot title",
                  "shot label", "shot id", "shot ref", "name", "title", "einstellung", "einstellungsnummer",
                  "einstellung nr", "einstellungsnr", "shotname", "plan", "numero du plan", "plano",
                  "numero de plano", "toma", "inquadratura", "take name"],
    "section": ["section", "scene", "scene number", "scene no", "scene nr", "scene #", "sc", "sc no", "scn",
                "sequence", "seq", "act", "chapter", "part", "szene", "szenennummer", "szene nr", "bild nr",
                "akt", "abschnitt", "kapitel", "sequenz", "scene n", "sequence name", "escena", "secuencia",
                "scena", "sequenza", "acte", "sezione"],
    "description": ["description", "shot description", "action", "desc", "what happens", "content", "summary",
                    "visual", "visual description", "visuals", "shot details", "details", "beschreibung",
                    "handlung", "inhalt", "bildbeschreibung", "aktion", "description du plan", "action du plan",
                    "descripcion", "accion", "descrizione", "azione", "synopsis"],
    "image_prompt": ["image prompt", "prompt", "t2i prompt", "still prompt", "bild prompt", "bildprompt",
                     "midjourney prompt", "sd prompt", "positive prompt", "text to image prompt", "ai prompt",
                     "generation prompt", "image generation prompt", "keyframe prompt", "frame prompt",
                     "prompt image", "prompt de imagen", "prompt immagine"],
    "colour_scheme_image": ["colour scheme", "color scheme", "colour scheme image", "color palette",
                            "colour palette", "palette", "colours", "colors", "color", "colour", "farbschema",
                            "farbpalette", "farben", "farbe", "palette de couleurs", "paleta de colores",
                            "colour grade", "color grade", "look"],
    "time_of_day": ["time of day", "tod", "day night", "d n", "day or night", "daytime", "time of the day",
                    "tageszeit", "tag nacht", "t n", "moment de la journee", "jour nuit", "hora del dia",
                    "momento del dia", "dia noche", "ora del giorno", "giorno notte"],
    "location": ["location", "set", "place", "setting", "loc", "locations", "set location", "scene location",
                 "ort", "drehort", "schauplatz", "motiv", "lieu", "decor", "locacion", "ubicacion", "lugar",
                 "luogo", "ambientazione"],
    "country": ["country", "land", "pays", "pais", "paese", "nation"],
    "year": ["year", "jahr", "annee", "ano", "anno", "era", "period", "epoche"],
    "video_prompt": ["video prompt", "motion prompt", "i2v prompt", "animation prompt", "video generation prompt",
                     "videoprompt", "clip prompt", "prompt video", "movement prompt", "runway prompt",
                     "kling prompt", "wan prompt", "prompt de video"],
    "dialogue": ["dialogue", "dialog", "dialogues", "lines", "dialogue vo", "voice over", "voiceover", "vo",
                 "spoken text", "speech", "dialogue line", "dialogo", "dialoge", "text gesprochen", "sprechtext",
                 "dialogue off", "voix off"],
    "image_negative": ["negative prompt", "image negative", "negative", "neg prompt", "negative image prompt",
                       "image negative prompt", "negativer prompt", "negativ prompt"],
    "video_negative": ["video negative", "video negative prompt", "negative video prompt", "motion negative"],
    "lora_1": ["lora", "lora 1", "lora1", "loras", "first lora"],
    "lora_2": ["lora 2", "lora2", "second lora"],
    "lora_3": ["lora 3", "lora3", "third lora"],
    "created_date": ["created date", "created", "date created", "created at", "creation date"],
    "shot_id": [],        # only the exact AIMMS column, and only with whole-number values (see propose)
    # Production columns AIMMS has no field for, worth keeping: proposed as "-> notes".
    NOTES: ["notes", "note", "comments", "comment", "remarks", "camera", "cam", "lens", "focal length", "shot size",
            "size", "shot type", "type", "framing", "frame", "angle", "camera angle", "movement",
            "camera movement", "move", "camera move", "equipment", "gear", "rig", "support", "frame rate", "fps",
            "duration", "length", "est time", "estimated time", "runtime", "time", "seconds", "sound", "audio",
            "music", "sfx", "vfx", "cast", "subject", "subjects", "characters", "character", "actors", "talent",
            "props", "wardrobe", "int ext", "i e", "interior exterior", "setup", "set up", "media",
            "script reference", "script ref", "page", "pages", "lighting", "light", "transition", "focus",
            "kamera", "objektiv", "brennweite", "einstellungsgrosse", "grosse", "kamerabewegung", "bewegung",
            "perspektive", "winkel", "dauer", "lange", "bemerkungen", "bemerkung", "notizen", "anmerkungen",
            "ton", "musik", "requisiten", "darsteller", "figuren", "licht", "kostum", "innen aussen",
            "camara", "objetivo", "duracion", "notas", "sonido", "personajes", "valeur de plan", "cadrage",
            "mouvement", "duree", "remarques", "son", "personnages", "durata", "note di regia", "obiettivo"],
}
# Columns that carry nothing a shot can keep (a tool's checkbox or a picture cell): proposed dropped.
DROP_PHRASES = {"status", "done", "complete", "completed", "check", "checked", "x", "ok",
                "image", "images", "thumbnail", "thumb", "picture", "storyboard", "storyboard image", "frame image",
                "reference image", "sketch", "bild", "skizze", "vorschau", "preview", "link", "url"}

_NUMBER_WORDS = {"no", "nr", "num", "n", "number", "nummer", "numero", "n°"}


def phrase(header: str) -> str:
    """'Shot #' -> 'shot number', 'Einstellungsgröße' -> 'einstellungsgrosse', 'Time-of-Day (INT/EXT)' ->
    'time of day int ext': lower-case ASCII words, '#'/'No.'/'Nr.' after a word read as 'number'."""
    s = unicodedata.normalize("NFKC", header).replace("\ufeff", "").casefold().replace("ß", "ss")
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    s = s.replace("#", " number ").replace("°", " number ")
    words = re.findall(r"[a-z0-9]+", s)
    out: list[str] = []
    for w in words:
        out.append("number" if w in _NUMBER_WORDS and out else w)
    return " ".join(out)


_PHRASES: list[tuple[str, str]] = [(phrase(p) or p, f) for f, ps in FIELD_PHRASES.items() for p in ps]
_DROP = {phrase(p) for p in DROP_PHRASES}


@dataclass(frozen=True)
class Guess:
    """The best field for one header: `target` (AIMMS field, NOTES, or None), how sure (0..1), why."""
    target: str | None
    score: float
    why: str


def _similar(a: str, b: str) -> float:
    if a == b:
        return 1.0
    la, lb = len(a), len(b)
    # ratio() <= 2*min/(la+lb): skip the pairs that cannot reach FUZZY_MIN (most of them; this is what
    # keeps a header search over a long file's first lines in milliseconds)
    if min(la, lb) < 5 or 2 * min(la, lb) < FUZZY_MIN * (la + lb):
        return 0.0
    r = difflib.SequenceMatcher(None, a, b).ratio()
    return r if r >= FUZZY_MIN else 0.0


MAX_HEADER = 48   # longer cells are data (a description), never a column name


@functools.lru_cache(maxsize=4096)
def guesses(header: str) -> tuple[Guess, ...]:
    """Every field the header could mean, best first (one Guess per field). Cached: callers must not
    change the returned list."""
    h = phrase(header)
    if not h or len(h) > MAX_HEADER:
        return ()
    best: dict[str, Guess] = {}
    hw = h.split()
    for p, field in _PHRASES:
        s = _similar(h, p)
        if s == 1.0:
            why = "same name" if p == phrase(field) else f"a usual name for {field}" if field != NOTES else \
                "a production column AIMMS has no field for"
        else:
            why = f"spelling close to '{p}'"
        if s == 0.0 and len(hw) > 1:
            pw = p.split()
            # "Shot Description" holds "description": a weaker match, stronger the more of it it covers.
            if all(w in hw for w in pw):
                s = 0.80 + 0.15 * len(p) / len(h)
                why = f"contains '{p}'"
        if s > 0 and (field not in best or s > best[field].score):
            best[field] = Guess(field, round(s, 3), why)
    return tuple(sorted(best.values(), key=lambda g: -g.score))


def is_drop_header(header: str) -> bool:
    return phrase(header) in _DROP
