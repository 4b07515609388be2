"""Import circles among the modules of indexer/ and search/, and imports against the grain.

Reads every module with ``ast`` (nothing is imported or run) and counts every import
statement in it: at module level, inside functions, and under ``if TYPE_CHECKING:``, with
relative imports resolved. ``from package import name`` depends on ``package.name`` when
that is a module, and on the package (its ``__init__``) otherwise; the packages a dotted
import passes through are not counted, as import-linter does not count them.

Prints every circle found, the modules in order with the line of each import, and each
import of ``search`` from ``indexer``; exits 1 when there is any, 0 when there is none.

    .venv/bin/python scripts/check_imports.py
    .venv/bin/python scripts/check_imports.py --root DIR PACKAGE ...
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("indexer", "search")
# (importer, imported): the first package never imports the second.
ONE_WAY = (("indexer", "search"),)


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported name, resolved to a module where one is known
    line: int
    path: Path


def module_names(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Every module of ``packages`` under ``root``, by dotted name (a package by its own)."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _base(module: str, path: Path, level: int) -> str:
    """The package a relative import of ``level`` dots in ``module`` starts from."""
    parts = module.split(".")
    if not _is_package(path):
        parts.pop()  # a module's own package is one dot
    if level > 1:
        parts = parts[:len(parts) - (level - 1)]
    return ".".join(parts)


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """Every import in ``module``'s source, wherever it stands in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, node.lineno, path) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _base(module, path, node.level)
                origin = f"{base}.{node.module}" if node.module else base
            else:
                origin = node.module or ""
            for alias in node.names:
                named = f"{origin}.{alias.name}"
                target = named if named in modules else origin
                found.append(Import(module, target, node.lineno, path))
    return found


def graph(modules: dict[str, Path]) -> dict[str, dict[str, Import]]:
    """Module -> the modules of the set it imports, each with its first import."""
    edges: dict[str, dict[str, Import]] = {name: {} for name in modules}
    for name, path in modules.items():
        for imp in sorted(imports_of(name, path, modules), key=lambda i: i.line):
            if imp.target in modules and imp.target != name:
                edges[name].setdefault(imp.target, imp)
    return edges


def _components(edges: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _shortest_path(edges: dict[str, dict[str, Import]], start: str, goal: str,
                   within: set[str]) -> list[str]:
    previous: dict[str, str] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [goal]
            while path[-1] != start:
                path.append(previous[path[-1]])
            return path[::-1]
        for child in sorted(edges[node]):
            if child in within and child not in seen:
                seen.add(child)
                previous[child] = node
                queue.append(child)
    return []


def circles(edges: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Circles of imports, each as its modules in import order, the first one again at
    the end; for every import inside a circle, the shortest circle through it."""
    found: dict[tuple[str, ...], list[str]] = {}
    for component in _components(edges):
        members = set(component)
        for source in component:
            for target in sorted(edges[source]):
                if target not in members:
                    continue
                loop = [source, *_shortest_path(edges, target, source, members)[:-1]]
                # One circle, whichever module it is read from: start at the smallest.
                first = loop.index(min(loop))
                key = tuple(loop[first:] + loop[:first])
                found.setdefault(key, [*key, key[0]])
    return sorted(found.values(), key=lambda c: (len(c), c))


def against_the_grain(modules: dict[str, Path],
                      one_way: tuple[tuple[str, str], ...] = ONE_WAY) -> list[Import]:
    """Imports by one package of one it must never import."""
    wrong = []
    for name, path in modules.items():
        for low, high in one_way:
            if name.split(".")[0] != low:
                continue
            wrong += [imp for imp in imports_of(name, path, modules)
                      if imp.target.split(".")[0] == high]
    return sorted(wrong, key=lambda i: (str(i.path), i.line))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", nargs="*", default=list(PACKAGES),
                        help="top-level packages to read (default: indexer search)")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the folder that holds them (default: the project)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    packages = tuple(args.packages)
    missing = [p for p in packages if not (root / p / "__init__.py").is_file()]
    if missing:
        parser.error(f"no package {', '.join(missing)} in {root}")
    modules = module_names(root, packages)
    edges = graph(modules)

    found = circles(edges)
    for loop in found:
        print("import circle: " + " -> ".join(loop))
        for source, target in zip(loop, loop[1:], strict=False):
            imp = edges[source][target]
            print(f"    {imp.path.relative_to(root)}:{imp.line} imports {target}")
    wrong = against_the_grain(modules)
    for imp in wrong:
        print(f"{imp.path.relative_to(root)}:{imp.line}: {imp.source} imports {imp.target}; "
              f"{imp.source.split('.')[0]}/ never imports {imp.target.split('.')[0]}/")
    if found or wrong:
        print(f"{len(found)} import circle(s), {len(wrong)} import(s) against the grain, "
              f"among {len(modules)} modules of {', '.join(packages)}")
        return 1
    print(f"no import circle among {len(modules)} modules of {', '.join(packages)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
