"""SQLite files for tests: one migrated once per session, copied for each test."""

from __future__ import annotations

import shutil
from pathlib import Path

FILE_NAME = "homeward.db"


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / FILE_NAME}"


def copy_of(template: Path, directory: Path) -> str:
    """The URL of a fresh copy of the (closed) SQLite file `template`, in `directory`."""
    shutil.copyfile(template, directory / FILE_NAME)
    return sqlite_url(directory)
