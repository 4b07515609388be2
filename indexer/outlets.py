"""Outlets: one name for each outlet however its articles spell it, and the outlet's lean.

An outlets file (a CSV file given to a build) has the columns ``outlet``, ``lean``
and ``aliases`` (aliases separated by ``|``). Names and aliases are matched
case-insensitively and whatever the spacing, so "Fox News", "FOX NEWS" and, when listed as
aliases, "Fox Online News" and "Fox News (Online)" are one outlet for filters, counts and
display. A lean is any short label the file or the article uses (left, center, right, ...).

A leaf of the package: storage, sources and search all read it, and it reads none of them.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BadOutletsFile

# An article's own lean, from the first of its fields that holds a label. ABP's files carry
# ``bias_text`` (left/center/right) beside a numeric ``bias`` (0/1/2): numbers are no label,
# and what they stand for is the dataset's convention, not the data's, so they are not read.
LEAN_FIELDS = ("lean", "bias_text", "bias")
COLUMNS = ("outlet", "lean", "aliases")
ALIAS_SEPARATOR = "|"
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_NAME_CHARS = 200  # as long as a stored outlet name may be (indexer/ingest/extract.py)
MAX_LEAN_CHARS = 40
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def outlet_key(name: str) -> str:
    """What two spellings of one name share: case and spacing do not count."""
    return " ".join(name.casefold().split())


def clean_name(name: str) -> str:
    return " ".join(_CONTROL.sub(" ", name).split())


def clean_lean(value: object) -> str | None:
    """A lean label in lower case, or None for anything that is not one (a number, blank)."""
    if not isinstance(value, str):
        return None
    label = " ".join(_CONTROL.sub(" ", value).split()).lower()
    if not label or len(label) > MAX_LEAN_CHARS or _NUMBER.fullmatch(label):
        return None
    return label


def lean_of_record(record: dict) -> str | None:
    """The lean an input record gives itself, if any."""
    return next((lean for lean in map(clean_lean, (record.get(f) for f in LEAN_FIELDS))
                 if lean), None)


@dataclass(frozen=True)
class Outlet:
    name: str
    lean: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutletMap:
    """The outlets a user listed; an outlet not listed is its own name, with no lean of
    its own."""

    outlets: tuple[Outlet, ...] = ()
    _by_key: dict[str, Outlet] = field(default_factory=dict, init=False, repr=False,
                                       compare=False)

    def __post_init__(self) -> None:
        for outlet in self.outlets:
            for name in (outlet.name, *outlet.aliases):
                self._by_key.setdefault(outlet_key(name), outlet)

    def __len__(self) -> int:
        return len(self.outlets)

    def find(self, name: str | None) -> Outlet | None:
        """The listed outlet ``name`` is a spelling of, if any."""
        return self._by_key.get(outlet_key(name)) if name else None

    def resolve(self, source: str | None, own_lean: str | None) -> tuple[str | None, str | None]:
        """The outlet and lean an article is filed under, from the outlet its input names
        and the lean it gives itself: the file's lean, where it gives one, comes first, so a
        user can correct the labels a collection carries."""
        outlet = self.find(source)
        if outlet is None:
            return source, own_lean
        return outlet.name, outlet.lean or own_lean

    def spellings(self) -> dict[str, str]:
        """Every listed name and alias (by key) and the outlet it names."""
        return {key: outlet.name for key, outlet in self._by_key.items()}

    def as_rows(self) -> list[dict]:
        return [{"name": o.name, "lean": o.lean, "aliases": json.dumps(list(o.aliases))}
                for o in self.outlets]

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str | None, str | None]]) -> OutletMap:
        return cls(tuple(Outlet(name, lean, tuple(json.loads(aliases or "[]")))
                         for name, lean, aliases in rows))

    def digest(self) -> str:
        """Changes when the mapping does (not when only the file's layout does)."""
        text = json.dumps([[o.name, o.lean, sorted(o.aliases)] for o in
                           sorted(self.outlets, key=lambda o: o.name)], ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_outlets(path: Path) -> OutletMap:
    """The outlets of a CSV file, checked whole: any bad row raises :class:`BadOutletsFile`
    naming it, so a build never starts with half a mapping."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise BadOutletsFile(path, f"cannot be read ({error.strerror or error})") from None
    if len(data) > MAX_FILE_BYTES:
        raise BadOutletsFile(path, f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        text = codecs.decode(data, "utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[:error.start].count(b"\n") + 1
        raise BadOutletsFile(path, f"not valid UTF-8 text (byte {error.start})", row) from None
    if "\x00" in text:
        raise BadOutletsFile(path, "binary file, not CSV text")
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        return _parse(path, rows)
    except csv.Error as error:
        raise BadOutletsFile(path, f"broken CSV ({error})", rows.line_num) from None


def _parse(path: Path, rows) -> OutletMap:
    header = next(rows, None)
    while header is not None and not any(cell.strip() for cell in header):
        header = next(rows, None)
    if header is None:
        raise BadOutletsFile(path, "empty file; the first row must name the columns "
                             "outlet,lean,aliases")
    names = [cell.strip().lower() for cell in header]
    unknown = [n for n in names if n not in COLUMNS]
    if unknown or "outlet" not in names or len(set(names)) != len(names):
        raise BadOutletsFile(
            path, "the first row must name the columns outlet, lean and aliases (lean and "
            f"aliases may be left out), found {','.join(names)!r}", rows.line_num)
    outlets: list[Outlet] = []
    claimed: dict[str, tuple[str, int]] = {}  # key -> (outlet, row) that holds it
    row_number = 1
    for row_number, cells in enumerate(rows, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(names):
            raise BadOutletsFile(path, f"{len(cells)} fields where the header has "
                                 f"{len(names)} (an alias list holding a comma needs quotes)",
                                 row_number)
        values = dict(zip(names, cells, strict=True))
        outlet = _outlet(path, row_number, values)
        for spelling in (outlet.name, *outlet.aliases):
            key = outlet_key(spelling)
            holder = claimed.get(key)
            if holder is not None and holder[0] != outlet.name:
                raise BadOutletsFile(path, f"{spelling!r} is claimed by {holder[0]!r} (row "
                                     f"{holder[1]}) and by {outlet.name!r}", row_number)
            if holder is not None and spelling == outlet.name:
                raise BadOutletsFile(path, f"outlet {outlet.name!r} is listed twice (rows "
                                     f"{holder[1]} and {row_number})", row_number)
            claimed[key] = (outlet.name, row_number)
        outlets.append(outlet)
    return OutletMap(tuple(outlets))


def _outlet(path: Path, row: int, values: dict[str, str]) -> Outlet:
    name = clean_name(values["outlet"])
    if not name:
        raise BadOutletsFile(path, "no outlet name", row)
    if len(name) > MAX_NAME_CHARS:
        raise BadOutletsFile(path, f"outlet name longer than {MAX_NAME_CHARS} characters", row)
    given_lean = values.get("lean", "").strip()
    lean = clean_lean(given_lean)
    if given_lean and lean is None:
        raise BadOutletsFile(path, f"lean {given_lean!r} is not a label such as left, center "
                             f"or right (at most {MAX_LEAN_CHARS} characters, not a number)",
                             row)
    aliases = []
    for alias in values.get("aliases", "").split(ALIAS_SEPARATOR):
        alias = clean_name(alias)
        if len(alias) > MAX_NAME_CHARS:
            raise BadOutletsFile(path, f"alias longer than {MAX_NAME_CHARS} characters", row)
        if alias and outlet_key(alias) != outlet_key(name) and alias not in aliases:
            aliases.append(alias)
    return Outlet(name, lean, tuple(aliases))
