r"""Safe reading of hipkit's YAML configuration files (measure files and mapping files).

A configuration file is read as a plain tree of mappings, lists and **text**: no YAML 1.1 implicit
typing, so ``NULL``, ``no``, ``on``, ``007`` and ``1e3`` stay exactly as written (a schema converts
``"2"`` to a number where a number is expected). An empty plain value (``key:``) is the only null.

Hostile files are refused with one line that names the file and the line, quickly and in bounded
memory: files over :data:`MAX_BYTES`, aliases (``*name``: what "billion laughs" files are made of),
nesting deeper than :data:`MAX_DEPTH`, explicit tags other than ``!!str``/``!!map``/``!!seq``,
non-text keys, a key given twice in one mapping, several documents in one file, text that is not
UTF-8, and YAML that does not parse.

Examples
--------
>>> doc = parse_yaml("sex: {1: female}\nmissing: [NULL, no, 007, 1e3]\n", "m.yml")
>>> doc.data
{'sex': {'1': 'female'}, 'missing': ['NULL', 'no', '007', '1e3']}
>>> doc.line(("missing", 2))
2
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "YamlDocument", "parse_yaml", "read_yaml"]

#: Largest configuration file read (bytes). hipkit's own files are a few kilobytes.
MAX_BYTES = 1_000_000
#: Deepest nesting of mappings and lists (hipkit's files need four levels).
MAX_DEPTH = 16

# libyaml's parser when it is there (fast), PyYAML's pure-Python one otherwise. Only the event
# stream is used: the tree is built below, so aliases are never expanded and nothing recurses.
_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_PLAIN_TAGS = {None, "!", "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_Path = tuple  # a location in the tree: keys (str) and list positions (int)


@dataclass(frozen=True)
class YamlDocument:
    """A configuration file read as text: the tree and the line of every key and list item.

    Parameters
    ----------
    data : dict, list, str or None
        The tree: mappings with text keys, lists, text, and None for an empty plain value.
    origin : str
        What to call the file in messages (its path as given).
    lines : dict
        1-based line of each location (a tuple of keys and 0-based list positions).
    """

    data: Any
    origin: str
    lines: dict[_Path, int] = field(default_factory=dict)

    def line(self, loc: tuple) -> int | None:
        r"""Return the line of ``loc``, or of its deepest ancestor that has one (None if none).

        Examples
        --------
        >>> parse_yaml("a:\n  b: 1\n", "x.yml").line(("a", "b", "deeper"))
        2
        """
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return None


def read_yaml(path: str | Path, *, error: type[InputError] = InputError, what: str = "file") -> YamlDocument:
    r"""Read a configuration file safely (see the module docstring for what is refused).

    Parameters
    ----------
    path : str or Path
        The file.
    error : type of InputError
        The exception raised for any problem (e.g. ``RegistryError`` for measure files).
    what : str
        What the file is, for messages ("measure file", "mapping file").

    Returns
    -------
    YamlDocument

    Raises
    ------
    InputError
        (of type ``error``) with one line naming the file, the line and what to do.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.yml"
    >>> _ = p.write_text("visits:\n  no: 2\n")
    >>> read_yaml(p).data
    {'visits': {'no': '2'}}
    """
    origin = str(path)
    try:
        size = os.stat(path).st_size
        if size > MAX_BYTES:
            raise error(
                f"{origin}: the {what} is {size:,} bytes; hipkit reads at most {MAX_BYTES:,} (is it the right file?)"
            )
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)  # also bounds what a pipe or a growing file can send
    except OSError as exc:
        raise error(f"{origin}: cannot read the {what} ({exc.strerror or exc})") from None
    if len(raw) > MAX_BYTES:
        raise error(
            f"{origin}: the {what} is over {MAX_BYTES:,} bytes; hipkit reads at most that (is it the right file?)"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(f"{origin}, line {line}: the {what} is not UTF-8 text; save it as UTF-8") from None
    return parse_yaml(text, origin, error=error, what=what)


def parse_yaml(text: str, origin: str, *, error: type[InputError] = InputError, what: str = "file") -> YamlDocument:
    r"""Parse configuration text safely into a :class:`YamlDocument` (scalars stay text).

    Parameters
    ----------
    text : str
        The YAML text.
    origin : str
        What to call it in messages.
    error : type of InputError
        The exception raised for any problem.
    what : str
        What the text is, for messages.

    Returns
    -------
    YamlDocument

    Raises
    ------
    InputError
        (of type ``error``) with one line naming ``origin`` and the line.

    Examples
    --------
    >>> parse_yaml("a: &x [1]\nb: *x\n", "x.yml")
    Traceback (most recent call last):
    ...
    hipkit.errors.InputError: x.yml, line 2: YAML aliases ('*x') are not allowed in a file; write the value out in full
    """
    if len(text) > MAX_BYTES:
        raise error(f"{origin}: the {what} is over {MAX_BYTES:,} characters; hipkit reads at most that")
    builder = _TreeBuilder(origin, error, what)
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            builder.feed(event)
    except yaml.YAMLError as exc:
        raise error(f"{origin}{_yaml_error_where(exc, text)}: the {what} is not valid YAML ({_problem(exc)})") from None
    return YamlDocument(builder.root, origin, builder.lines)


def _yaml_error_where(exc: yaml.YAMLError, text: str) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return f", line {mark.line + 1}, column {mark.column + 1}"
    position = getattr(exc, "position", None)  # ReaderError: a character position
    if isinstance(position, int):
        return f", line {text[:position].count(chr(10)) + 1}"
    return ""


def _problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    if problem:
        return " ".join(str(problem).split())
    reason = getattr(exc, "reason", None)  # ReaderError
    if reason:
        return " ".join(str(reason).split())
    first = str(exc).strip().splitlines()
    return first[0] if first else type(exc).__name__


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


class _Frame:
    __slots__ = ("container", "path", "key", "key_line")

    def __init__(self, container: dict | list, path: _Path) -> None:
        self.container = container
        self.path = path
        self.key: str | None = None  # a mapping's key waiting for its value
        self.key_line = 0


_NO_KEY = None


class _TreeBuilder:
    """Build the tree from parser events (PyYAML's composer would expand aliases and recurse)."""

    def __init__(self, origin: str, error: type[InputError], what: str) -> None:
        self.origin, self.error, self.what = origin, error, what
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.lines: dict[_Path, int] = {}
        self.documents = 0

    def fail(self, line: int, message: str) -> None:
        raise self.error(f"{self.origin}, line {line}: {message}")

    def feed(self, event: yaml.Event) -> None:
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                self.fail(line, f"the {self.what} holds several YAML documents ('---'); keep one")
            return
        if isinstance(event, yaml.AliasEvent):
            self.fail(
                line, f"YAML aliases ('*{event.anchor}') are not allowed in a {self.what}; write the value out in full"
            )
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            self.stack.pop()
            return
        if not isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            return  # stream start/end, document end
        if event.tag not in _PLAIN_TAGS:
            tag = str(event.tag).replace("tag:yaml.org,2002:", "!!")
            self.fail(line, f"YAML tag {tag!r} is not allowed in a {self.what}; write plain values")
        if isinstance(event, yaml.ScalarEvent):
            plain_empty = event.value == "" and not event.style and event.tag is None
            self.add(None if plain_empty else event.value, line, scalar=True)
            return
        if len(self.stack) >= MAX_DEPTH:
            self.fail(line, f"the {self.what} nests deeper than {MAX_DEPTH} levels; hipkit's files need at most 4")
        container: dict | list = {} if isinstance(event, yaml.MappingStartEvent) else []
        path = self.add(container, line, scalar=False)
        self.stack.append(_Frame(container, path))

    def add(self, value: Any, line: int, *, scalar: bool) -> _Path:
        if not self.stack:
            self.root = value
            return ()
        top = self.stack[-1]
        if isinstance(top.container, list):
            path = (*top.path, len(top.container))
            top.container.append(value)
            self.lines[path] = line
            return path
        if top.key is _NO_KEY:
            if not scalar or value is None:
                self.fail(line, "a key must be plain text (quote it if it is empty or holds ': ')")
            if value in top.container:
                first = self.lines.get((*top.path, value), "?")
                self.fail(
                    line, f"key {_short(value)} appears twice in the same mapping (first at line {first}); keep one"
                )
            top.key, top.key_line = value, line
            self.lines[(*top.path, value)] = line
            return (*top.path, value)
        path = (*top.path, top.key)
        top.container[top.key] = value
        top.key = _NO_KEY
        return path
