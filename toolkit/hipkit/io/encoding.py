"""Text encodings of exports: decided from the bytes, with a confidence, never silently guessed.

Order of decisions:

1. A byte-order mark (UTF-8, UTF-16, UTF-32) settles it (confidence 1).
2. Bytes that decode as UTF-8 are UTF-8 (confidence 1): random non-UTF-8 text almost never does.
3. A file in which some non-ASCII runs are valid UTF-8 and others are not holds **two encodings**
   (a UTF-8 export with lines pasted from a Windows program): each invalid run is decoded as
   Windows-1252, the lines are named in a warning, and the confidence is 0.5.
4. Anything else is detected by charset-normalizer among the encodings exports come in. The
   confidence is ``(1 - mess) x agreement``, where *mess* is charset-normalizer's chaos ratio of the
   chosen decoding and *agreement* the share of equally plausible encodings that decode the bytes to
   the same text: a cp1252 file that cp1250 reads identically is certain; one that cp1251 reads as
   other letters is not. Below :data:`LOW_CONFIDENCE` the log carries a warning.

charset-normalizer does the detection; only the policy (which candidates, how sure, what to say) is here.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from ..errors import UnreadableFileError

__all__ = ["Decoded", "decode_bytes", "LOW_CONFIDENCE", "FALLBACK_ERRORS"]

#: Below this confidence the encoding is reported as uncertain in the log's warnings.
LOW_CONFIDENCE = 0.8

#: The encodings exports come in, most common first (the order breaks ties).
CANDIDATES = (
    "cp1252",
    "latin_1",
    "iso8859_15",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1257",
    "cp932",
    "shift_jis",
    "euc_jp",
    "gb18030",
    "big5",
    "euc_kr",
    "cp949",
    "koi8_r",
    "mac_roman",
)

#: Name of the codec error handler that reads bytes invalid in UTF-8 as Windows-1252.
FALLBACK_ERRORS = "hipkit-cp1252-fallback"


def _cp1252_fallback(exc: UnicodeError):
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    chunk = exc.object[exc.start : exc.end]
    return chunk.decode("cp1252", errors="replace"), exc.end


codecs.register_error(FALLBACK_ERRORS, _cp1252_fallback)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass
class Decoded:
    """Decoded text and how sure the decoding is.

    Attributes
    ----------
    text : str
    encoding : str
        The codec name (``utf-8``, ``utf-16``, ``cp1252``, ``utf-8+cp1252`` for a mixed file, ...).
    confidence : float
        0 to 1 (see the module docstring).
    codec : str
        What to pass to ``open(..., encoding=codec, errors=errors)`` to stream the same text.
    errors : str
        The matching error handler (``strict`` or :data:`FALLBACK_ERRORS`).
    warnings : list of str
        What the log should say (mixed encodings, low confidence).
    """

    text: str
    encoding: str
    confidence: float
    codec: str
    errors: str = "strict"
    warnings: list = field(default_factory=list)


def decode_bytes(raw: bytes, name: str) -> Decoded:
    r"""Decode the bytes of a text export (see the module docstring for the rules).

    Parameters
    ----------
    raw : bytes
    name : str
        The file's name, for messages.

    Returns
    -------
    Decoded

    Raises
    ------
    UnreadableFileError
        No plausible text encoding (a binary file).

    Examples
    --------
    >>> d = decode_bytes("id,group\nP1,Müller\n".encode("cp1252"), "x.csv")
    >>> d.text.splitlines()[1], d.encoding
    ('P1,Müller', 'cp1252')
    >>> decode_bytes(b"id\nP1\n", "x.csv").confidence
    1.0
    """
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            try:
                return Decoded(raw.decode(enc), enc.replace("-sig", ""), 1.0, enc)
            except UnicodeDecodeError as exc:
                raise UnreadableFileError(
                    f"{name}: starts with a {enc} byte-order mark but byte {exc.start} is not {enc}"
                ) from None
    try:
        return Decoded(raw.decode("utf-8"), "utf-8", 1.0, "utf-8")
    except UnicodeDecodeError:
        pass
    # Whole lines of valid multi-byte UTF-8 beside lines that are not: two encodings in one file (a
    # UTF-8 export with lines pasted from a Windows program). Lines, not byte runs, are the evidence:
    # legacy multi-byte text (GB18030, Shift-JIS) forms a valid UTF-8 pair by chance, never a whole line.
    utf8_lines, bad_lines = 0, []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_lines += 1
        except UnicodeDecodeError:
            bad_lines.append(number)
    if utf8_lines and bad_lines and utf8_lines >= len(bad_lines):
        text = raw.decode("utf-8", errors=FALLBACK_ERRORS)
        shown = ", ".join(str(n) for n in bad_lines[:5]) + (" ..." if len(bad_lines) > 5 else "")
        msg = (
            f"{name}: two text encodings in one file: {utf8_lines} line(s) are UTF-8 but {len(bad_lines)} are not "
            f"(lines {shown}); those were read as Windows-1252. Check those lines, or save the file as UTF-8"
        )
        return Decoded(text, "utf-8+cp1252", 0.5, "utf-8", FALLBACK_ERRORS, [msg])
    return _detect(raw, name)


def _detect(raw: bytes, name: str) -> Decoded:
    from charset_normalizer import from_bytes

    matches = list(from_bytes(raw, cp_isolation=list(CANDIDATES), preemptive_behaviour=False))
    if not matches:
        raise UnreadableFileError(f"{name}: not a text file in any known encoding; save it as UTF-8 CSV")
    rank = {c: i for i, c in enumerate(CANDIDATES)}

    def names(m) -> list[str]:  # charset-normalizer merges encodings that give the same text
        return sorted({m.encoding, *m.could_be_from_charset}, key=lambda c: (rank.get(c, len(rank)), c))

    best_chaos = min(m.chaos for m in matches)
    tier = [m for m in matches if m.chaos <= best_chaos + 0.02]
    best_coherence = max(m.coherence for m in tier)
    tier = [m for m in tier if m.coherence >= best_coherence - 0.1]
    tier.sort(key=lambda m: rank.get(names(m)[0], len(rank)))
    chosen = tier[0]
    encoding = names(chosen)[0]
    text = str(chosen)
    agreeing = sum(len(names(m)) for m in tier if str(m) == text)
    total = sum(len(names(m)) for m in tier)
    others = [names(m)[0] for m in tier if str(m) != text]
    confidence = round((1.0 - chosen.chaos) * agreeing / total, 3)
    warnings = []
    if confidence < LOW_CONFIDENCE:
        alt = f"; could also be {', '.join(others[:3])}" if others else ""
        warnings.append(
            f"{name}: text encoding uncertain: read as {encoding} (confidence {confidence:.2f}{alt}); "
            "if names or labels look wrong, save the file as UTF-8"
        )
    return Decoded(text, encoding, confidence, encoding, "strict", warnings)
