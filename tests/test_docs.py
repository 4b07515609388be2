"""The docs keep up with the code: every command documented, links alive, the picture current.

Fast: nothing here loads a model or builds an index.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import click
import pytest

from search.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
DOT = DOCS / "architecture.dot"
SVG = DOCS / "architecture.svg"
MAX_README_LINES = 200

# A markdown link or image target: [text](target) or ![alt](target "title").
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# A package or folder of the project as the diagram names it: search/web, indexer/ingest.
_PACKAGE = re.compile(r"\b(?:indexer|search)/[a-z_]+|\b(?:templates|benchmarks)/")


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        yield " ".join(path), command
        if isinstance(command, click.Group):
            yield from _commands(command, path)


COMMANDS = list(_commands(cli))


def test_the_cli_has_commands():
    names = {name for name, _ in COMMANDS}
    assert {"index", "search", "serve", "eval retrieval", "eval coverage"} <= names


@pytest.mark.parametrize("name,command", COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_command_has_help(name, command):
    assert (command.help or "").strip(), f"presslens {name} has no help text"


@pytest.mark.parametrize("name", [name for name, _ in COMMANDS])
def test_every_command_is_named_in_the_readme(name):
    assert f"presslens {name}" in README.read_text(encoding="utf-8"), (
        f"README.md does not name `presslens {name}`")


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_README_LINES, (
        f"README.md has {lines} lines; keep it to {MAX_README_LINES} and move the rest to docs/")


def _relative_links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    # Code blocks hold shell and JSON, not links.
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return [target for target in _LINK.findall(text)
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target) and not target.startswith("#")]


@pytest.mark.parametrize("page", [README, ROOT / "CHANGELOG.md", *sorted(DOCS.glob("*.md"))],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_files(page):
    missing = [target for target in _relative_links(page)
               if not (page.parent / target.split("#", 1)[0]).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to missing files: {missing}"


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings (lowercased, punctuation dropped)."""
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchor, n = slug, 0
        while anchor in anchors:
            n += 1
            anchor = f"{slug}-{n}"
        anchors.add(anchor)
    return anchors


@pytest.mark.parametrize("page", [README, *sorted(DOCS.glob("*.md"))],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_links_to_a_section_find_it(page):
    broken = []
    for target in _relative_links(page):
        file, _, anchor = target.partition("#")
        if anchor and file.endswith(".md") and anchor not in _anchors(page.parent / file):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)} links to sections that are not there: {broken}"


def test_readme_embeds_the_architecture_picture():
    assert "docs/architecture.svg" in _relative_links(README)


def test_architecture_picture_shows_every_package_its_source_names():
    assert SVG.is_file(), "docs/architecture.svg is missing: run `make diagram`"
    named = set(_PACKAGE.findall(DOT.read_text(encoding="utf-8")))
    assert named, "docs/architecture.dot names no package"
    drawn = html.unescape(SVG.read_text(encoding="utf-8"))
    stale = sorted(name for name in named if name not in drawn)
    assert not stale, f"docs/architecture.svg lacks {stale}: run `make diagram`"


def test_architecture_source_names_every_sub_package():
    subpackages = {f"{init.parent.parent.name}/{init.parent.name}"
                   for top in ("indexer", "search")
                   for init in (ROOT / top).glob("*/__init__.py")}
    named = set(_PACKAGE.findall(DOT.read_text(encoding="utf-8")))
    assert subpackages <= named, (
        f"docs/architecture.dot does not draw {sorted(subpackages - named)}")


# The module map is the code block of docs/development.md that starts with `indexer/`. Each
# entry is a line `<indent><name>.py  what it does` or `<indent><name>/  what it holds`,
# two spaces of indent a level (indexer/ and search/ at the left edge); a description may
# go on in lines indented past the entries. A sub-package's entry names its modules in
# its description as a comma-separated list, each item a module's name (without .py, or a
# folder's with /) and any note in parentheses after it; `a and b` names two, and a text
# before a colon is a note on the package itself:
#
#   indexer/
#     embed/              base (the Embedder interface), openvino, sentence_transformers
#     settings.py         Settings and every default
_ENTRY = re.compile(r"^((?:  ){0,4})(\S+\.py|\S+/)(?:\s{2,}(.*))?$")
_NOTE = re.compile(r"\([^()]*\)")


def _listed(description: str) -> list[str]:
    """The modules (and folders) a sub-package's description lists, in order."""
    text = description
    while _NOTE.search(text):
        text = _NOTE.sub("", text)
    text = text.rsplit(":", 1)[-1]
    items = [part for chunk in text.split(",") for part in chunk.split(" and ")]
    return [item.split()[0] for item in items if item.split()]


def _module_map() -> dict[str, list[str]]:
    """Every path the module map has an entry for (e.g. indexer/settings.py, search/web/),
    each with the names its description lists when it is a sub-package of indexer/ or
    search/ (e.g. indexer/embed/: ["base", "openvino", ...])."""
    text = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```[\w-]*\n(.*?)^```", text, flags=re.S | re.M)
    block = next((b for b in blocks if b.startswith("indexer/")), "")
    entries: dict[str, list[str]] = {}
    parents: list[str] = []
    described: str | None = None  # the sub-package whose description may go on
    for line in block.splitlines():
        entry = _ENTRY.match(line)
        if entry is None:
            if described and line.strip():
                entries[described].append(line.strip())
            continue
        depth = len(entry.group(1)) // 2
        del parents[depth:]
        path = "".join(parents) + entry.group(2)
        entries[path] = []
        described = None
        if path.endswith("/"):
            parents.append(entry.group(2))
            if depth >= 1 and path.startswith(("indexer/", "search/")):
                described = path
                entries[path].append(entry.group(3) or "")
    return {path: _listed(" ".join(lines)) if lines else []
            for path, lines in entries.items()}


def test_module_map_names_only_what_exists():
    entries = _module_map()
    assert "search/cli/" in entries and "indexer/storage/" in entries
    missing = [p for p in entries if not (ROOT / p).exists()]
    assert not missing, f"The module map has entries for what is not there: {missing}"
    unknown = [f"{package}{name}" for package, names in entries.items() for name in names
               if not ((ROOT / package / f"{name}.py").is_file()
                       or (name.endswith("/") and (ROOT / package / name).is_dir()))]
    assert not unknown, (
        f"The module map lists modules that are not there: {unknown} (a sub-package's "
        "entry lists its modules by name, comma-separated, notes in parentheses)")


def test_module_map_names_every_module():
    """Every module of indexer/ and search/ has an entry of its own or is listed in its
    sub-package's entry; a package's __init__ and __main__ go with the package."""
    entries = _module_map()
    unnamed = []
    for top in ("indexer", "search"):
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT)
            package = "".join(f"{part}/" for part in relative.parts[:-1])
            if path.stem in {"__init__", "__main__"}:
                named = package in entries
            else:
                named = (str(relative) in entries
                         or path.stem in entries.get(package, []))
            if not named:
                unnamed.append(str(relative))
    assert not unnamed, (
        "docs/development.md's module map does not name these modules: "
        f"{unnamed}. Give each a line `  name.py  what it does` under its package, or list "
        "it by name in its sub-package's entry: `  embed/  base (...), openvino, ...`")


def test_test_folders_mirror_the_packages():
    """A package's tests live in the folder of the same path under tests/."""
    folders = [p for p in (ROOT / "tests").rglob("*") if p.is_dir()
               and p.name not in {"__pycache__", "fixtures"} and "fixtures" not in p.parts]
    assert folders
    for folder in folders:
        package = ROOT / folder.relative_to(ROOT / "tests")
        assert (package / "__init__.py").is_file(), f"{folder} mirrors no package"
