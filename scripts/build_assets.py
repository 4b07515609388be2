"""A wheel carries the page's two scripts from npm (htmx, Chart.js) inside the package.

They are installed into ``node_modules`` by ``make setup`` and never committed, so building
a wheel (``pip wheel .``) copies them into ``search/web/static/vendor/`` of the build, where
``search/web/resources.py`` looks first. An editable install reads ``node_modules`` in
place and copies nothing. Named in pyproject.toml as the build's ``build_py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools.command.build_py import build_py

# The file name in static/vendor and its path in node_modules, as search/web/resources.py
# names them (the packaging test checks an installed copy serves both).
VENDORED = {
    "htmx.min.js": Path("htmx.org/dist/htmx.min.js"),
    "chart.umd.min.js": Path("chart.js/dist/chart.umd.min.js"),
}


class BuildPy(build_py):
    """``build_py`` that adds the vendored scripts to the built package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        node_modules = Path("node_modules")
        vendor = Path(self.build_lib) / "search" / "web" / "static" / "vendor"
        for name, source in VENDORED.items():
            if not (node_modules / source).is_file():
                self.warn(f"{node_modules / source} is missing (run `npm install`): the "
                          f"installed page will answer 404 for /assets/{name}")
                continue
            vendor.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(node_modules / source, vendor / name)
