"""The rule for worker and runner names, shared by the server and its clients."""

from __future__ import annotations

MAX_NAME_LENGTH = 128
"""Maximum length of a worker or runner name, in characters."""


def name_problem(name: str, kind: str) -> str | None:
    """Return why `name` cannot name a `kind` ("worker" or "runner"), or None when it can.

    A name is 1 to MAX_NAME_LENGTH printable characters without white space
    at either end, because callers look items up by the exact name.
    """
    if not name.strip():
        return f"name is empty; give the {kind} a name"
    if len(name) > MAX_NAME_LENGTH:
        return f"name is {len(name)} characters long; use at most {MAX_NAME_LENGTH}"
    if any(not character.isprintable() for character in name):
        return f"name {name!r} contains control characters; remove them"
    if name != name.strip():
        return (
            f"name {name!r} starts or ends with white space; remove it, since callers would "
            "have to repeat it exactly"
        )
    return None
