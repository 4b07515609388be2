"""The layout's rules: no import circle in indexer/ or search/, indexer/ never imports
search/, and no module past its size.

Fast: the source is read with ``ast`` (scripts/check_imports.py); nothing is imported.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "scripts" / "check_imports.py"
MAX_LINES = 400


def check_imports(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_no_import_circle_and_indexer_never_imports_search():
    done = check_imports()
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("no import circle among ")


def test_no_module_is_over_400_lines():
    sizes = {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8").count("\n")
             for top in ("indexer", "search") for path in (ROOT / top).rglob("*.py")}
    assert len(sizes) > 20
    over = {path: lines for path, lines in sorted(sizes.items()) if lines > MAX_LINES}
    assert not over, f"modules over {MAX_LINES} lines (split them; aim for about 300): {over}"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


# A made-up package whose circle closes only through an import inside a function and one
# under TYPE_CHECKING, both relative: a checker that reads module-level imports alone, or
# does not resolve dots, sees none.
CIRCLE = {
    "shop/__init__.py": "",
    "shop/cart.py": "from .pricing import total\n",
    "shop/pricing/__init__.py": "",
    "shop/pricing/total.py": ("from __future__ import annotations\n"
                              "from typing import TYPE_CHECKING\n"
                              "if TYPE_CHECKING:\n"
                              "    from ..stock import Item\n"),
    "shop/stock.py": ("import json\n\n"
                      "def load():\n"
                      "    from . import cart\n"
                      "    return cart, json\n"),
    "shop/plain.py": "from shop.stock import load\n",
}


def test_the_check_finds_a_circle_through_every_kind_of_import(tmp_path):
    root = write(tmp_path, CIRCLE)
    done = check_imports("--root", str(root), "shop")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == ("import circle: shop.cart -> shop.pricing.total -> shop.stock "
                        "-> shop.cart")
    assert lines[1:4] == ["    shop/cart.py:1 imports shop.pricing.total",
                          "    shop/pricing/total.py:4 imports shop.stock",
                          "    shop/stock.py:4 imports shop.cart"]
    assert lines[-1].startswith("1 import circle(s), 0 import(s) against the grain")


def test_the_check_passes_a_package_without_a_circle(tmp_path):
    files = {**CIRCLE, "shop/stock.py": "import json\n\ndef load():\n    return json\n"}
    done = check_imports("--root", str(write(tmp_path, files)), "shop")
    assert done.returncode == 0, done.stdout
    assert done.stdout == "no import circle among 6 modules of shop\n"


def test_the_check_finds_indexer_importing_search(tmp_path):
    root = write(tmp_path, {
        "indexer/__init__.py": "",
        "indexer/build.py": "def later():\n    from search.engine import Engine\n",
        "search/__init__.py": "",
        "search/engine.py": "from indexer.build import later\n",
    })
    done = check_imports("--root", str(root), "indexer", "search")
    assert done.returncode == 1
    assert ("indexer/build.py:2: indexer.build imports search.engine; indexer/ never imports "
            "search/") in done.stdout
    assert "import circle: indexer.build -> search.engine -> indexer.build" in done.stdout


def test_test_modules_have_names_of_their_own():
    """tests/ folders are not packages, so pytest imports each test module by its file name
    alone: two of one name in different folders stop the whole run at collection."""
    names = Counter(path.name for path in (ROOT / "tests").rglob("test_*.py"))
    twice = sorted(name for name, count in names.items() if count > 1)
    assert not twice, f"test modules of the same name in different folders: {twice}"
