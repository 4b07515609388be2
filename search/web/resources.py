"""Where the page's files are: templates, static files and the two vendored scripts.

All of them ship inside the package (``search/web/templates``, ``search/web/static``), so
an installed copy serves the same page as a checkout. htmx and Chart.js come from npm and
are never committed: building a wheel copies them into ``static/vendor`` (see
``scripts/build_assets.py``); a checkout without that copy serves them from its own
``node_modules``.
"""

from __future__ import annotations

from pathlib import Path

from indexer.settings import PROJECT_ROOT

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
NODE_MODULES = PROJECT_ROOT / "node_modules"

# Each script's file name in static/vendor, and its path in node_modules.
VENDORED = {
    "htmx.min.js": Path("htmx.org/dist/htmx.min.js"),
    "chart.umd.min.js": Path("chart.js/dist/chart.umd.min.js"),
}


def vendored(name: str) -> Path:
    """The copy of a vendored script that exists: the package's first, then the
    checkout's ``node_modules``; the package's path when neither does."""
    packaged = VENDOR_DIR / name
    if packaged.is_file():
        return packaged
    checkout = NODE_MODULES / VENDORED[name]
    return checkout if checkout.is_file() else packaged


HTMX_JS = vendored("htmx.min.js")
CHART_JS = vendored("chart.umd.min.js")
