"""The evaluations list filters every kind; an evaluation's page streams until it ends."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.api.trust_helpers import USER_KEY, script_model
from tests.factories import RunningAssay, make_settings, serve_assay
from tests.fakes.openai_server import FakeLLM
from tests.web.helpers import signed_in, start_trust


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/ui/evaluations/(?!new")[^"]+">([^<]+)</a>', html)


async def test_list_filters_searches_and_pages(tmp_path: Path, fake_llm: FakeLLM):
    script_model(fake_llm)
    settings = make_settings(tmp_path, fake_llm=fake_llm, quota_concurrent_evaluations=0)
    with serve_assay(settings, run_workers=False) as assay:  # the list needs no results
        await _list_pages(assay)


async def _list_pages(assay: RunningAssay) -> None:
    key = await assay.key()
    for index in range(27):
        await start_trust(assay, key, name=f"run {index:02d}")
    async with signed_in(assay, key) as client:
        first = await client.get("/ui/evaluations")
        second = await client.get("/ui/evaluations", params={"page": 2})
        found = await client.get("/ui/evaluations", params={"q": "RUN 1"})
        kind = await client.get("/ui/evaluations", params={"kind": "accuracy"})
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
        future = await client.get("/ui/evaluations", params={"since": tomorrow})
        bad = await client.get("/ui/evaluations", params={"since": "yesterday"})
    assert len(_names(first.text)) == 25 and "page 1 of 2" in first.text
    assert _names(first.text)[0] == "run 26"
    assert _names(second.text) == ["run 01", "run 00"]
    assert sorted(_names(found.text)) == [f"run {i}" for i in range(10, 20)]
    assert _names(kind.text) == [] and "0 evaluations" in kind.text
    assert _names(future.text) == []
    assert bad.status_code == 422 and "since: must be a date as YYYY-MM-DD" in bad.text


async def test_the_stream_sends_the_page_as_it_changes_then_done(
    assay: RunningAssay, fake_llm: FakeLLM
):
    script_model(fake_llm, latency=0.2)
    key = await assay.key()
    evaluation_id = await start_trust(assay, key, api_key_value=USER_KEY)
    async with signed_in(assay, key) as client:
        events: list[tuple[str, str]] = []
        async with client.stream("GET", f"/ui/evaluations/{evaluation_id}/stream") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            name, data = "", []
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    data.append(line.removeprefix("data: "))
                elif not line:
                    events.append((name, "\n".join(data)))
                    name, data = "", []
        page = await client.get(f"/ui/evaluations/{evaluation_id}")
        item = re.search(r'href="(/ui/evaluations/[^"]+/items/[^"]+)"', page.text)
        assert item
        trace = await client.get(item.group(1))
    names = [name for name, _ in events]
    assert names[-1] == "done" and names.count("done") == 1
    assert "completed" in events[-2][1] and "95% interval" in events[-2][1]
    assert trace.status_code == 200 and "Trace" in trace.text
    for body in [page.text, trace.text, *(data for _, data in events)]:
        assert USER_KEY not in body
