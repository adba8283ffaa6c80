from aimms_fast.project.layout import Layout
from aimms_fast.project.project import Project

__all__ = ["Layout", "Project"]
