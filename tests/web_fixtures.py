"""A small collection indexed with the real model, shared by the API, page and browser tests.

The three test modules each ask for the index; it is built once per run, into the session's
temporary folder, and reused by the others.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"

# Markup that must show as text and run nothing wherever it appears on a page.
EVIL_TITLE = (
    "<script>window.__pwned=1;alert(1)</script> Library budget vote "
    '<img src=x onerror="window.__pwned=1;alert(1)">'
)
EVIL_SOURCE = '<b onmouseover="window.__pwned=1">Evil Gazette</b>'
EVIL_URL = "javascript:window.__pwned=1;alert(1)"
EVIL_TEXT = (
    "The county board voted on Tuesday to cut the public library budget by a third, closing "
    "two branches on weekends. <script>window.__pwned=1;alert('text')</script> Librarians "
    'said the cuts would end the reading programme for children. <img src=x onerror="window.'
    "__pwned=1;alert('img')\"> Residents who opposed the library budget cuts packed the "
    'meeting. <a href="javascript:window.__pwned=1;alert(\'link\')">Read the budget</a> The '
    "board chair said the county had no other way to close the deficit this year.\n\n"
    "A second vote on the library budget is expected in the spring, after the county "
    "publishes its revenue forecast."
)

WIRE_TEXT = (
    "Lawmakers in the Senate passed a farm bill late on Thursday that expands crop insurance "
    "for small growers and extends subsidies for dairy farmers through 2029. The measure "
    "passed by 68 votes to 31 after weeks of negotiation over food assistance rules.\n\n"
    "Supporters said the bill gives farmers certainty after two years of drought and falling "
    "grain prices. Critics said the crop insurance changes favour large agribusiness. The "
    "House is expected to take up the farm bill next month."
)

BRIDGE_TEXT = (
    "State inspectors closed the Fifth Street river bridge on Wednesday after finding cracked "
    "steel girders beneath its eastern span, sending thousands of commuters onto detours. The "
    "transportation department said the bridge would stay shut until engineers finish a full "
    "structural review.\n\n"
    "The bridge carries about 40,000 vehicles a day. Local officials asked the legislature "
    "for emergency repair money and said a temporary ferry service could start within weeks."
)

WATER_TEXT = (
    "The city water utility announced a plan to replace every lead service pipe in its system "
    "by 2030, digging up about 18,000 lines that connect homes to water mains. Residents will "
    "pay nothing for the work, which federal infrastructure grants will fund.\n\n"
    "Health officials said no safe level of lead exposure exists for children. Crews will "
    "start in the oldest neighbourhoods this autumn and send letters to each household "
    "before they dig."
)

# The outlets file of the collection: an alias, and leans the articles do not give.
OUTLETS_CSV = (
    "outlet,lean,aliases\n"
    "Heartland Courier,right,Heartland Courier Online\n"
    "Midland Wire,center,\n"
)

ARTICLES = [
    {
        "id": "farm-wire-1",
        "title": "Senate passes farm bill expanding crop insurance",
        "text": WIRE_TEXT,
        "source": "Wire Service",
        "date": "2024-03-08",
        "url": "https://wire.example/farm-bill",
        "author": "A. Reporter",
    },
    {
        "id": "farm-wire-2",
        "title": "Senate passes farm bill expanding crop insurance",
        "text": WIRE_TEXT + "\n\nCopyright Daily Herald. All rights reserved.",
        "source": "Daily Herald",
        "date": "2024-03-08",
        "url": "https://herald.example/news/farm-bill",
    },
    {
        "id": "transit",
        "title": "City council approves protected bike lanes downtown",
        "text": (
            "The city council approved a plan on Monday to build eight miles of protected bike "
            "lanes downtown, removing some street parking along the main avenues. Cycling "
            "groups welcomed the vote, while shop owners worried about deliveries.\n\n"
            "Construction is set to begin in the summer and finish before the end of next "
            "year, the transportation department said."
        ),
        "source": "Metro Times",
        "date": "2023-06-12",
        "url": "https://metro.example/bike-lanes",
    },
    {
        "id": "tariffs",
        "title": "Administration raises tariffs on imported steel",
        "text": (
            "The administration announced a 25 percent tariff on imported steel and aluminium "
            "on Friday, saying foreign overproduction threatens domestic mills. Trading "
            "partners warned of retaliation against agricultural exports.\n\n"
            "Economists said the tariffs would raise costs for carmakers and builders who rely "
            "on imported metal."
        ),
        "source": "Capital Post",
        "date": "2025-02-14",
        "url": "https://capital.example/steel-tariffs",
    },
    {
        "id": "voting",
        "title": "State legislature passes voter ID requirement",
        "text": (
            "The state legislature passed a law requiring voters to show photo identification "
            "at the polls, starting with the next general election. Civil rights groups said "
            "the rule would keep eligible voters from casting ballots.\n\n"
            "The governor is expected to sign the bill this week. Election officials said they "
            "would issue free ID cards to anyone who needs one."
        ),
        "source": "Capital Post",
        "date": "2024-09-30",
        "url": "https://capital.example/voter-id",
    },
    {
        "id": "climate",
        "title": "Agency proposes stricter limits on power plant emissions",
        "text": (
            "The environmental agency proposed new limits on carbon emissions from coal and gas "
            "power plants, the strongest climate rule in a decade. Utilities would have until "
            "2032 to capture most of their emissions or shut older plants.\n\n"
            "Industry groups said the rule would raise electricity prices and vowed to challenge "
            "it in court."
        ),
        "source": "Metro Times",
        "date": "2025-05-02",
        "url": "https://metro.example/emissions",
    },
    # Two stories for the story view: one only outlets of the right carried (one outlet
    # under two spellings, the outlets file's alias), one carried by every side and by an
    # outlet of unknown lean, whose earliest article is undated.
    {
        "id": "bridge-sentinel",
        "title": "Inspectors close the river bridge after finding cracked girders",
        "text": BRIDGE_TEXT + "\n\nReported by the Frontier Sentinel news desk.",
        "source": "Frontier Sentinel",
        "lean": "right",
        "date": "2024-04-10",
        "url": "https://sentinel.example/bridge-closed",
    },
    {
        "id": "bridge-courier",
        "title": "River bridge closed after inspectors find cracked girders",
        "text": BRIDGE_TEXT + "\n\nHeartland Courier staff contributed to this report.",
        "source": "Heartland Courier",
        "date": "2024-04-11",
        "url": "https://courier.example/news/bridge",
    },
    {
        "id": "bridge-courier-online",
        "title": "River bridge closed after inspectors find cracked girders",
        "text": BRIDGE_TEXT + "\n\nFirst published in the Heartland Courier print edition.",
        "source": "Heartland Courier Online",
        "date": "2024-04-12",
        "url": "https://online.courier.example/bridge",
    },
    {
        "id": "water-valley",
        "title": "Water utility plans to replace every lead service pipe",
        "text": WATER_TEXT + "\n\nValley Voice is a reader-supported newsroom.",
        "source": "Valley Voice",
        "url": "https://valley.example/lead-pipes",
    },
    {
        "id": "water-midland",
        "title": "Utility to replace lead pipes across the city by 2030",
        "text": WATER_TEXT + "\n\nDistributed by Midland Wire.",
        "source": "Midland Wire",
        "date": "2024-07-01",
        "url": "https://midland.example/lead-pipes",
    },
    {
        "id": "water-coastal",
        "title": "Lead pipes to be replaced across the city",
        "text": WATER_TEXT + "\n\nThe Coastal Tribune republished this story.",
        "source": "Coastal Tribune",
        "lean": "Left",
        "date": "2024-07-03",
        "url": "https://coastal.example/lead-pipes",
    },
    {
        "id": "water-sentinel",
        "title": "City utility will dig up lead service pipes",
        "text": WATER_TEXT + "\n\nReported by the Frontier Sentinel news desk, city edition.",
        "source": "Frontier Sentinel",
        "lean": "right",
        "date": "2024-07-03",
        "url": "https://sentinel.example/lead-pipes",
    },
    {
        "id": "evil",
        "title": EVIL_TITLE,
        "text": EVIL_TEXT,
        "source": EVIL_SOURCE,
        "date": "2024-11-05",
        "url": EVIL_URL,
    },
]


def write_corpus(folder: Path) -> Path:
    """The collection as the indexer reads it: one JSONL file, plus the project's seed pages."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "articles.jsonl").open("w", encoding="utf-8") as out:
        for article in ARTICLES:
            out.write(json.dumps(article) + "\n")
    seeds = FIXTURES / "seeds"
    if seeds.is_dir():
        shutil.copytree(seeds, folder / "seeds", dirs_exist_ok=True)
    return folder


_built: dict[Path, Path] = {}


def web_index(base: Path, embedder) -> Path:
    """The index folder for the collection above, built on first use in this run."""
    from indexer.build import build_index
    from indexer.settings import Settings

    index_dir = base / "web-index"
    if index_dir not in _built:
        corpus = write_corpus(base / "web-corpus")
        outlets = base / "web-outlets.csv"  # outside the corpus: it is no article file
        outlets.write_text(OUTLETS_CSV, encoding="utf-8")
        report = build_index(Settings(index_dir=index_dir), [corpus], embedder=embedder,
                             outlets=outlets)
        assert report.added >= len(ARTICLES), report.as_dict()
        _built[index_dir] = index_dir
    return index_dir


def free_socket() -> socket.socket:
    """A listening-ready socket on a free loopback port, handed to uvicorn (no port race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def live_server(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread; yields its base URL."""
    import uvicorn

    sock = free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
