"""Public case references like FD-7K3Q9: short enough to read out on the phone, with an alphabet
that has no look-alikes (no 0/O, 1/I/L, no U), so a customer cannot misread one."""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 5
PREFIX = "FD-"

#: A reference anywhere in a text (case-insensitive, optional dash or space after FD).
REFERENCE_IN_TEXT = re.compile(rf"\bFD[-\s]?([{ALPHABET}{ALPHABET.lower()}]{{{LENGTH}}})\b", re.I)


def new_reference() -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize_reference(text: str) -> str | None:
    """`fd 7k3q9` -> `FD-7K3Q9`; None when the text holds no well-formed reference."""
    match = REFERENCE_IN_TEXT.search(text or "")
    if match is None:
        return None
    code = match.group(1).upper()
    if any(ch not in ALPHABET for ch in code):
        return None
    return PREFIX + code


def references_in(text: str) -> list[str]:
    found: list[str] = []
    for match in REFERENCE_IN_TEXT.finditer(text or ""):
        code = match.group(1).upper()
        ref = PREFIX + code
        if all(ch in ALPHABET for ch in code) and ref not in found:
            found.append(ref)
    return found
