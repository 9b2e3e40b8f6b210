"""Proto source texts of the built-in runners, as RunnerService returns them.

Clients compile these texts to convert JSON into settings and args bytes,
so they are read from the `.proto` files the stubs were generated from: in a
source checkout from `proto/` beside the package, in an installed wheel from
`jwp/proto_src/` (copied there at build time).
"""

from __future__ import annotations

import functools
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[2]
_CANDIDATE_ROOTS = (_PACKAGE_DIR / "proto_src", _PACKAGE_DIR.parent / "proto")


@functools.cache
def proto_root() -> Path:
    """Return the folder that holds `jobworkerp/runner/*.proto`."""
    for root in _CANDIDATE_ROOTS:
        if (root / "jobworkerp" / "runner").is_dir():
            return root
    searched = ", ".join(str(root) for root in _CANDIDATE_ROOTS)
    raise FileNotFoundError(
        f"runner proto files not found in {searched}; reinstall jwp so they are included"
    )


@functools.cache
def runner_proto(relative_path: str) -> str:
    """Return the text of `jobworkerp/runner/<relative_path>`, e.g. `command_args.proto`."""
    return (proto_root() / "jobworkerp" / "runner" / relative_path).read_text(encoding="utf-8")
