"""AIMMS 1.0 tables exactly as the AIMMS app creates them (published schema, see docs/format.md).

The CREATE statements are verbatim copies (whitespace included) so `sqlite_master.sql` matches a
database AIMMS made. AIMMS 1.2 creates a NEW project's `shots` table with its six 1.2 columns in
place (SHOTS_12_SQL: dialogue after description, image_negative after image_prompt, video_negative
and lora_1..3 after video_prompt, created_date last; from the real 1.2 CREATE statement in the
ComfyUI_Batch_from_AIMMS node's docs/shots_db_schema.md), while a 1.0/1.1 database it upgrades gets
them appended by ALTER TABLE (SHOTS_SQL + SHOTS_12_COLUMNS). We do the same, so either shape is one
AIMMS itself makes. Never reshape these tables: our own data lives in `fast_*` tables."""

SHOTS_SQL = "CREATE TABLE shots (\n                shot_id INTEGER PRIMARY KEY AUTOINCREMENT,\n                order_number INTEGER,\n                shot_name TEXT,\n                section TEXT,\n                description TEXT,\n                image_prompt TEXT,\n                colour_scheme_image TEXT,\n                time_of_day TEXT,\n                location TEXT,\n                country TEXT,\n                year TEXT,\n                video_prompt TEXT,\n                created_date TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now', 'utc'))\n            )"
# AIMMS 1.2's statement for a new database, whitespace as its 1.0 statements (the published dump
# flattens newlines; the 16/12-space indents match SHOTS_SQL's).
SHOTS_12_ORDER = ["shot_id", "order_number", "shot_name", "section", "description", "dialogue", "image_prompt",
                  "image_negative", "colour_scheme_image", "time_of_day", "location", "country", "year",
                  "video_prompt", "video_negative", "lora_1", "lora_2", "lora_3", "created_date"]
_SHOTS_12_TYPES = {"shot_id": "INTEGER PRIMARY KEY AUTOINCREMENT", "order_number": "INTEGER",
                   "created_date": "TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now', 'utc'))"}
SHOTS_12_SQL = ("CREATE TABLE shots (\n" + ",\n".join(
    f"                {c} {_SHOTS_12_TYPES.get(c, 'TEXT')}" for c in SHOTS_12_ORDER) + "\n            )")
TAKES_SQL = "CREATE TABLE takes (\n                take_id TEXT PRIMARY KEY,\n                shot_id INTEGER,\n                take_type TEXT,\n                file_path TEXT,\n                starred INTEGER DEFAULT 0,\n                created_date TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now', 'utc')),\n                FOREIGN KEY (shot_id) REFERENCES shots(shot_id)\n            )"
ASSETS_SQL = "CREATE TABLE assets (\n                id_key TEXT PRIMARY KEY,\n                asset_name TEXT,\n                asset_type TEXT,\n                file_path TEXT,\n                starred INTEGER DEFAULT 0,\n                created_date TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now', 'utc'))\n            )"
META_SQL = 'CREATE TABLE meta (\n                key TEXT PRIMARY KEY,\n                value TEXT\n            )'
DELETED_SHOTS_SQL = "CREATE TABLE deleted_shots (\n                id INTEGER PRIMARY KEY AUTOINCREMENT,\n                old_shot_id INTEGER NOT NULL,\n                shot_name TEXT,\n                created_date TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now', 'utc'))\n            )"

AIMMS_TABLES = {"shots": SHOTS_SQL, "takes": TAKES_SQL, "assets": ASSETS_SQL, "meta": META_SQL,
                "deleted_shots": DELETED_SHOTS_SQL}

AIMMS_INDEXES = {
    'idx_deleted_shots_old_id': 'CREATE INDEX idx_deleted_shots_old_id ON deleted_shots(old_shot_id)',
    'idx_shots_order': 'CREATE INDEX idx_shots_order ON shots(order_number)',
    'idx_shots_section': 'CREATE INDEX idx_shots_section ON shots(section)',
    'idx_shots_shot_name': 'CREATE INDEX idx_shots_shot_name ON shots(shot_name)',
    'idx_takes_shot_id': 'CREATE INDEX idx_takes_shot_id ON takes(shot_id)',
    'idx_takes_shot_type': 'CREATE INDEX idx_takes_shot_type ON takes(shot_id, take_type)',
    'idx_takes_starred': 'CREATE INDEX idx_takes_starred ON takes(starred)',
    'idx_takes_type': 'CREATE INDEX idx_takes_type ON takes(take_type)',
}

# Schema 1.2 shots columns, in the order AIMMS appends them.
SHOTS_12_COLUMNS = ["dialogue", "image_negative", "video_negative", "lora_1", "lora_2", "lora_3"]
SCHEMA_VERSION = "1.2"

# The user-facing shot columns in table order (shot_id/created_date are managed by the store).
SHOT_FIELDS = ["order_number", "shot_name", "section", "description", "image_prompt",
               "colour_scheme_image", "time_of_day", "location", "country", "year", "video_prompt",
               *SHOTS_12_COLUMNS]

# take_type values AIMMS uses.
BASE_IMAGE = "base_image"
FINAL_VIDEO = "final_video"
VIDEO_WORKFLOW = "video_workflow"
AUDIO_VO = "audio_vo"
TAKE_TYPES = (BASE_IMAGE, FINAL_VIDEO, VIDEO_WORKFLOW, AUDIO_VO)

ASSET_TYPES = ("characters", "locations", "other")

# meta keys AIMMS expects, with defaults for create_if_missing (aimms-meta-entries.json).
META_DEFAULTS = {
    "author": "your name here",
    "project_name": "your project name here",
    "description": "add project description here",
    "comfyui_output_path": "",
    "comfyui_URL": "",
    "project_info": "Add detailed project information here...",
}
