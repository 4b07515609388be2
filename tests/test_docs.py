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


def _module_map() -> list[str]:
    """The paths the module map (docs/development.md) lists, e.g. indexer/settings.py,
    search/web/."""
    text = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```[\w-]*\n(.*?)^```", text, flags=re.S | re.M)
    block = next((b for b in blocks if b.startswith("indexer/")), "")
    paths, parent = [], ""
    for line in block.splitlines():
        top = re.match(r"^(\S+/)\s", line)
        child = re.match(r"^  (\S+\.py|\S+/)\s", line)
        if top:
            parent = top.group(1)
            paths.append(parent)
        elif child:
            paths.append(parent + child.group(1))
    return paths


def test_module_map_names_only_what_exists():
    paths = _module_map()
    assert "search/cli/" in paths and "indexer/storage/" in paths
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, f"The module map names what is not there: {missing}"


def test_test_folders_mirror_the_packages():
    """A package's tests live in the folder of the same path under tests/."""
    folders = [p for p in (ROOT / "tests").rglob("*") if p.is_dir()
               and p.name not in {"__pycache__", "fixtures"} and "fixtures" not in p.parts]
    assert folders
    for folder in folders:
        package = ROOT / folder.relative_to(ROOT / "tests")
        assert (package / "__init__.py").is_file(), f"{folder} mirrors no package"
