"""aimms_fast: a fast, local storyboard manager that reads and writes the AIMMS 1.0 project format."""
__version__ = "0.1.0"
# AIMMS writes this into meta.app_version; we keep the value AIMMS tools expect.
AIMMS_APP_VERSION = "1.0"
