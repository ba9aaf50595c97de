"""Signing in exchanges an API key for a session cookie; forms need the session's CSRF token."""

from __future__ import annotations

import httpx

from assay.core.principal import Role
from tests.api.trust_helpers import script_model
from tests.factories import RunningAssay
from tests.fakes.openai_server import FakeLLM
from tests.web.helpers import csrf_of, page_csrf, signed_in, start_trust


async def test_sign_in_sets_an_http_only_strict_cookie_without_the_key(assay: RunningAssay):
    key = await assay.key()
    async with httpx.AsyncClient(base_url=assay.url) as client:
        form = await client.get("/ui/login")
        response = await client.post(
            "/ui/login", data={"csrf": csrf_of(form.text), "api_key": key, "next": "/ui/x"}
        )
    assert response.status_code == 303 and response.headers["location"] == "/ui/x"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("assay_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert key not in cookie and key.removeprefix("assay_") not in cookie


async def test_a_wrong_key_is_refused_and_names_the_field(assay: RunningAssay):
    async with httpx.AsyncClient(base_url=assay.url) as client:
        form = await client.get("/ui/login")
        response = await client.post(
            "/ui/login", data={"csrf": csrf_of(form.text), "api_key": "assay_not-a-key"}
        )
    assert response.status_code == 401
    assert "api_key: not a valid API key" in response.text
    assert "assay_session" not in response.headers.get("set-cookie", "")


async def test_sign_in_without_the_forms_token_is_refused(assay: RunningAssay):
    key = await assay.key()
    async with httpx.AsyncClient(base_url=assay.url) as client:
        await client.get("/ui/login")
        response = await client.post("/ui/login", data={"csrf": "forged", "api_key": key})
    assert response.status_code == 403
    assert "assay_session" not in response.headers.get("set-cookie", "")


async def test_sign_in_never_redirects_off_the_ui(assay: RunningAssay):
    key = await assay.key()
    async with httpx.AsyncClient(base_url=assay.url) as client:
        form = await client.get("/ui/login")
        response = await client.post(
            "/ui/login",
            data={"csrf": csrf_of(form.text), "api_key": key, "next": "https://evil.example/"},
        )
    assert response.headers["location"] == "/ui/evaluations"


async def test_a_forged_cookie_is_no_session(assay: RunningAssay):
    async with httpx.AsyncClient(
        base_url=assay.url, cookies={"assay_session": "gAAAAABforged"}
    ) as client:
        response = await client.get("/ui/evaluations/anything")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=/ui/evaluations/anything"


async def test_a_post_without_the_csrf_token_changes_nothing(
    assay: RunningAssay, fake_llm: FakeLLM
):
    script_model(fake_llm, latency=0.5)
    key = await assay.key()
    evaluation_id = await start_trust(assay, key)
    async with signed_in(assay, key) as client:
        for path in ("cancel", "delete"):
            response = await client.post(
                f"/ui/evaluations/{evaluation_id}/{path}", data={"csrf": "wrong"}
            )
            assert response.status_code == 403
            assert "CSRF token" in response.text
        page = await client.get(f"/ui/evaluations/{evaluation_id}")
    assert page.status_code == 200 and "cancelled" not in page.text.split("Progress")[1][:300]


async def test_cancel_and_delete_with_the_token(assay: RunningAssay, fake_llm: FakeLLM):
    script_model(fake_llm, latency=5.0)  # still running when the form is posted
    key = await assay.key()
    evaluation_id = await start_trust(assay, key)
    async with signed_in(assay, key) as client:
        csrf = await page_csrf(client)
        cancelled = await client.post(
            f"/ui/evaluations/{evaluation_id}/cancel", data={"csrf": csrf}
        )
        assert cancelled.status_code == 303
        async with assay.client(key) as api:
            status = (await api.get(f"/v1/evaluations/{evaluation_id}")).json()["status"]
        assert status == "cancelled"
        deleted = await client.post(f"/ui/evaluations/{evaluation_id}/delete", data={"csrf": csrf})
        assert deleted.headers["location"] == "/ui/evaluations"
        assert (await client.get(f"/ui/evaluations/{evaluation_id}")).status_code == 404


async def test_a_reviewer_sees_but_cannot_change(assay: RunningAssay, fake_llm: FakeLLM):
    script_model(fake_llm, latency=0.5)
    evaluation_id = await start_trust(assay, await assay.key())
    async with signed_in(assay, await assay.key(role=Role.REVIEWER)) as client:
        page = await client.get(f"/ui/evaluations/{evaluation_id}")
        assert page.status_code == 200
        assert "/cancel" not in page.text and "/delete" not in page.text
        response = await client.post(
            f"/ui/evaluations/{evaluation_id}/cancel", data={"csrf": csrf_of(page.text)}
        )
    assert response.status_code == 403
    assert "needs the member role" in response.text


async def test_another_organizations_evaluation_is_a_404_page(
    assay: RunningAssay, fake_llm: FakeLLM
):
    script_model(fake_llm)
    theirs = await start_trust(assay, await assay.key(org="other"), name="their secret run")
    async with signed_in(assay, await assay.key()) as client:
        page = await client.get(f"/ui/evaluations/{theirs}")
        listed = await client.get("/ui/evaluations")
        stream = await client.get(f"/ui/evaluations/{theirs}/stream")
    assert page.status_code == 404 and "Not found" in page.text
    assert "their secret run" not in page.text and "their secret run" not in listed.text
    assert stream.status_code == 404


async def test_sign_out_ends_the_session(assay: RunningAssay):
    async with signed_in(assay, await assay.key()) as client:
        response = await client.post("/ui/logout", data={"csrf": await page_csrf(client)})
        assert response.status_code == 303
        assert (await client.get("/ui/evaluations")).status_code == 303
