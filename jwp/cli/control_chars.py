"""Escaping of terminal control characters in text that the server returns.

Job output, args, error messages and runner descriptions come from programs
and servers that the person at the terminal does not control. Printed raw,
an escape sequence in them could recolour the terminal, rewrite its title,
move the cursor over earlier lines or, on some terminals, set the clipboard.
Everything the CLI prints for people passes through `escape_control_chars`;
`--json` output needs no escaping, because JSON already writes these
characters as `\\u001b` and the like.
"""

from __future__ import annotations

# C0 controls except newline and tab, DEL, and the C1 controls (which some
# terminals read as the start of an escape sequence), written as `\x1b`.
_KEPT = {"\n", "\t"}
_ESCAPES = {
    code: f"\\x{code:02x}"
    for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))
    if chr(code) not in _KEPT
}


def escape_control_chars(text: str) -> str:
    """Write each control character of text, except newline and tab, as `\\xNN`.

    A Windows line end (CR LF) becomes a plain newline first, so output of
    such programs is not littered with `\\x0d`.
    """
    return text.replace("\r\n", "\n").translate(_ESCAPES)
