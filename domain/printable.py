"""Text that every encoder takes: names from the OS shown with their non-UTF-8 bytes escaped.

Python decodes a file name that is not UTF-8 with lone surrogates (byte 0xff becomes U+DCFF), so
the name round-trips to the file system; but no JSON, terminal or database encoder accepts such
text. Shown to the operator or stored, the bytes are written as `\\xff` instead.
"""

from __future__ import annotations


def printable(text: str) -> str:
    """`text`, with every byte that was not UTF-8 in its source written as `\\xNN` (and any
    other lone surrogate as `\\udNNN`); unchanged when it is valid text already."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
