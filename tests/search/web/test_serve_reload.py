"""A running `presslens serve` follows a rebuild without a restart and without a failed request.

Clients on loopback keep querying /api/search while `presslens index` adds articles and
switches the index to a new generation. Every request must succeed, and the answers must
change only once the new generation is live: every answer names the generation it came
from (the X-Index-Generation header).
"""

from __future__ import annotations

import json
import threading
import time

import httpx
from fakes import FAKE_MODEL
from processes import ROOT, start_server, write_base, write_new

from indexer.build import build_index
from indexer.settings import Settings
from indexer.storage.generations import live_name

ARTIFACTS = ROOT / "test-artifacts"
CLIENTS = 4
QUERY = "quokka import tariff"


def test_serving_goes_on_through_a_rebuild_and_switch(tmp_path, fake_embedder):
    folder = write_base(tmp_path / "articles")
    settings = Settings(index_dir=tmp_path / "index", model=FAKE_MODEL)
    build_index(settings, [folder], embedder=fake_embedder)
    old = live_name(settings.index_dir)
    server, base = start_server(settings.index_dir, tmp_path / "serve.log")

    answers: list[list[tuple[float, int, str, bool]]] = [[] for _ in range(CLIENTS)]
    failures: list[str] = []
    stop = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            for _ in range(5000):  # bounded, whatever happens
                if stop.is_set():
                    return
                try:
                    response = http.get("/api/search", params={"q": QUERY, "k": 5})
                except httpx.HTTPError as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                if response.status_code != 200:
                    failures.append(f"HTTP {response.status_code}: {response.text[:200]}")
                    continue
                ids = [r["article"]["id"] for r in response.json()["results"]]
                answers[n].append((time.monotonic(), response.status_code,
                                   response.headers.get("x-index-generation", ""),
                                   "quokka-1" in ids))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        while min(len(a) for a in answers) < 3 and not failures:
            time.sleep(0.05)
        write_new(folder)
        build_started = time.monotonic()
        report = build_index(settings, [folder], embedder=fake_embedder)
        switched = time.monotonic()
        new = report.generation
        assert new != old and live_name(settings.index_dir) == new
        # Go on until every client has had answers from the new generation.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not failures:
            if all(sum(1 for a in client_answers if a[2] == new) >= 3
                   for client_answers in answers):
                break
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        server.terminate()
        server.wait(timeout=30)

    assert failures == []
    flat = [a for client_answers in answers for a in client_answers]
    assert {generation for _, _, generation, _ in flat} == {old, new}
    for _, _, generation, found in flat:
        # Answers change with the generation, and only with it.
        assert found == (generation == new)
    for client_answers in answers:
        seen = [generation for _, _, generation, _ in client_answers]
        first_new = seen.index(new)
        assert set(seen[:first_new]) == {old} and set(seen[first_new:]) == {new}
    during = [a for a in flat if build_started <= a[0] <= switched]
    assert during, "no request was answered while the index was being rebuilt"

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "serve-during-rebuild.json").write_text(json.dumps({
        "clients": CLIENTS, "requests": len(flat) + len(failures), "failed": len(failures),
        "answered_during_rebuild": len(during), "rebuild_seconds": round(switched -
                                                                          build_started, 2),
        "old_generation_answers": sum(1 for a in flat if a[2] == old),
        "new_generation_answers": sum(1 for a in flat if a[2] == new)}, indent=2))
