"""Names that become directory names: checked to be filesystem-safe and readable."""

from __future__ import annotations

import re

from heterodyne.errors import HeterodyneError

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.=+-]*")
UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9_.=+-]+")
MAX_NAME_LENGTH = 200


def check_name(name: str, what: str) -> str:
    """Return ``name`` when it is a safe directory name; otherwise raise naming ``what``."""
    if not SAFE_NAME.fullmatch(name) or len(name) > MAX_NAME_LENGTH:
        raise HeterodyneError(
            f"{what}: name {name!r} is not usable as a directory name (letters, digits and _ . = + -, "
            f"starting with a letter or digit, at most {MAX_NAME_LENGTH} characters)"
        )
    return name


def safe_text(text: str) -> str:
    """``text`` with each run of unsafe characters replaced by one underscore."""
    return UNSAFE_CHARACTERS.sub("_", text).strip("_")
