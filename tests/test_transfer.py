"""Find practices to transfer: other regions' practices for a challenge, cited, diverse, over the real library."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from bot.cli import main
from bot.places import Gazetteer, Place
from bot.server import create_api
from bot.transfer import TransferFinder, TransferResult, transfer_markdown

SEED_CHALLENGE = "Our SMEs rarely work with universities: how could innovation vouchers connect them?"
FIELDS = {"title", "region", "country", "place", "project", "sentences", "transfers", "transferred_from", "source_url"}


def test_places_in_text() -> None:
    g = Gazetteer.default()
    assert g.find("A Flemish scheme, later used by the partner from Lithuania.") == [
        Place("Flanders", "Belgium"),
        Place("", "Lithuania"),
    ]
    assert g.find("Pannon Novum, the agency for West-Transdanubia") == [Place("West Transdanubia", "Hungary")]
    assert g.find("Germanic languages, no place") == []  # whole words only


@pytest.fixture(scope="module")
def finder(eval_components) -> TransferFinder:
    return TransferFinder(eval_components.assistant)


def test_seed_challenge_gets_cited_practices_from_three_regions(finder: TransferFinder) -> None:
    result = finder.find(SEED_CHALLENGE, region="Kainuu", country="Finland")
    assert len(set(result.regions())) >= 3, result.regions()
    for p in result.practices:
        assert p.sentences and all(len(s.split()) >= 4 for s in p.sentences)
        assert p.place and (p.source_url.startswith("http") or not p.source_url)
        assert p.country != "Finland" or p.region  # the asker's country-level practices are set apart
    assert sum(1 for p in result.practices if p.source_url) >= 3
    text = " ".join(s for p in result.practices for s in p.sentences).casefold()
    assert "voucher" in text
    # the seed reply's own example: Sunrise Valley (Lithuania) drew on San Sebastian's scheme
    lithuania = [p for p in result.practices if p.country == "Lithuania"]
    assert lithuania and any("San Sebastian" in t for t in lithuania[0].transfers)
    assert "Basque Country (Spain)" in lithuania[0].transferred_from
    md = transfer_markdown(result)
    assert "[1]" in md and "Open the source" in md


def test_asking_region_is_shown_apart_and_regions_are_diverse(finder: TransferFinder) -> None:
    result = finder.find(SEED_CHALLENGE, region="Basque Country")
    assert all(p.region != "Basque Country" for p in result.practices)
    assert any(p.region == "Basque Country" for p in result.own_region)
    top = [p.place for p in result.practices[:3]]
    assert len(set(top)) == len(top), "the first picks come from different places"


def test_empty_challenge_is_rejected(finder: TransferFinder) -> None:
    from bot.errors import QuestionRejected

    with pytest.raises(QuestionRejected):
        finder.find("   ", region="Kainuu")


def test_json_api_and_cli(eval_components, eval_settings, capsys, monkeypatch) -> None:
    client = TestClient(create_api(eval_components))
    r = client.post("/api/transfer", json={"challenge": SEED_CHALLENGE, "region": "Kainuu"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["practices"] and set(body["practices"][0]) >= FIELDS
    assert body["region"] == "Kainuu" and len(body["regions"]) >= 3
    assert client.post("/api/transfer", json={"challenge": "", "region": "Kainuu"}).status_code == 422

    monkeypatch.setenv("HELPDESK_CHROMA_PATH", str(eval_settings.chroma_path))
    monkeypatch.setenv("HELPDESK_COLLECTION", eval_settings.collection)
    assert main(["transfer", SEED_CHALLENGE, "--region", "Kainuu", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(TransferResult(**{k: data[k] for k in ("challenge", "region", "country")}), TransferResult)
    assert len(data["regions"]) >= 3
