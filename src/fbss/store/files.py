"""Files that hold patient data (the database, backups, exports) are created readable by their owner only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO


def open_private(path: Path, *, exclusive: bool = True) -> IO[str]:
    """A new text file, mode 0600 (whatever the umask); `exclusive`: refuse one that exists."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    descriptor = os.open(path, flags, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its mode otherwise
    return os.fdopen(descriptor, "w", encoding="utf-8")


def touch_private(path: Path) -> None:
    """Create the file (and its folder, 0700) if missing, owner-only; an existing file is left as it is."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
