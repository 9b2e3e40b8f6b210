"""Summaries of py-spy's collapsed stacks: where each process spends its samples."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TOP = 25


def _frames(stack: str) -> list[str]:
    """Frames of one collapsed stack, outermost first, as `function (file)`."""
    frames = []
    for frame in stack.split(";"):
        name, _, location = frame.partition(" (")
        path = location.split(":")[0].rstrip(")")
        frames.append(f"{name} ({_short(path)})")
    return frames


def _short(path: str) -> str:
    for marker in ("site-packages/", "/jwp/", "python3.11/"):
        if marker in path:
            return (
                path.split(marker, 1)[1] if marker != "/jwp/" else "jwp/" + path.split(marker, 1)[1]
            )
    return path


def summarize(path: Path) -> str:
    """Return a Markdown table of the functions with the most samples, inclusive and own."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = _frames(stack)
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    if not total:
        return f"### {path.stem}\n\nno samples\n"
    lines = [f"### {path.stem} ({total} samples)", "", "| function | inclusive | own |"]
    lines.append("| --- | --- | --- |")
    for frame, count in inclusive.most_common(TOP):
        lines.append(f"| `{frame}` | {count / total:.0%} | {own[frame] / total:.0%} |")
    lines += ["", "Most own samples:", "", "| function | own |", "| --- | --- |"]
    for frame, count in own.most_common(TOP):
        lines.append(f"| `{frame}` | {count / total:.0%} |")
    return "\n".join(lines) + "\n"


def summarize_folder(folder: Path) -> str:
    return "\n".join(summarize(path) for path in sorted(folder.glob("*.txt")))
