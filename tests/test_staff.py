"""Optional staff login: the public app asks only; drafting and the library need a login at /staff."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AuthenticationError

from bot.server import create_app
from evals.bench_load import serve_in_thread
from tests.servers import free_port

pytestmark = pytest.mark.slow


def test_public_ask_and_password_protected_staff_app(eval_components) -> None:
    settings = eval_components.settings.model_copy(update={"staff_users": "alice:s3cret-pass"})
    comps = dataclasses.replace(eval_components, settings=settings)
    port = free_port()
    server = serve_in_thread(create_app(comps), port)
    url = f"http://127.0.0.1:{port}"
    try:
        public = Client(f"{url}/", verbose=False)
        answer_md, _ = public.predict("Who is the lead partner of ClusterFY?", "[]", "{}", api_name="/ask")
        assert "MITA" in answer_md
        assert "/draft" not in public.view_api(return_format="dict", print_info=False)["named_endpoints"]

        # the staff app is there and answers, but only after a login (a refused connection would not pass)
        assert httpx.get(f"{url}/staff/config", timeout=30).status_code == 401
        assert httpx.get(f"{url}/config", timeout=30).status_code == 200
        with pytest.raises(AuthenticationError, match="credentials were not provided"):
            Client(f"{url}/staff/", verbose=False)
        wrong = httpx.post(f"{url}/staff/login", data={"username": "alice", "password": "wrong"}, timeout=30)
        assert wrong.status_code == 400 and "Incorrect credentials" in wrong.text
        with pytest.raises(ValueError, match="Could not login"):
            Client(f"{url}/staff/", auth=("alice", "wrong"), verbose=False)
        staff = Client(f"{url}/staff/", auth=("alice", "s3cret-pass"), verbose=False)
        draft = staff.predict("How can clusters support SMEs?", api_name="/draft")
        assert "Policy insights" in draft and "Dear colleague" in draft
    finally:
        server.should_exit = True


def test_staff_credentials_parsing() -> None:
    from bot.settings import Settings

    assert Settings(staff_users="a:1, b:two:three ,bad,:x").staff_credentials() == [("a", "1"), ("b", "two:three")]
    assert Settings().staff_credentials() == []
