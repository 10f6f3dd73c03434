"""A scan whose request budget runs out must not pass what it never sent, nor leave its objects."""

from __future__ import annotations

import asyncio
import ssl

import httpx

from launchready.context import ScanContext
from launchready.demo import start_demo
from launchready.demo_config import demo_config
from launchready.findings import Status
from launchready.runner import run_scan


def test_spent_budget_turns_passes_into_errors_and_still_cleans_up() -> None:
    with start_demo(frozenset()) as portal:
        config = demo_config(portal)
        scope = config.scope.model_copy(update={"request_budget": 80})
        ctx = ScanContext(config.model_copy(update={"scope": scope}))
        result = asyncio.run(run_scan(ctx, only=("authorization", "tenant-isolation")))

        owner = next(a for a in portal.accounts if a["email"].startswith("alice"))
        with httpx.Client(verify=ssl.create_default_context(cafile=str(portal.ca_path))) as client:
            token = client.post(
                f"https://127.0.0.1:{portal.https_port}/api/login",
                headers={"Host": "portal.test"},
                extensions={"sni_hostname": "portal.test"},
                json={"email": owner["email"], "password": owner["password"]},
            ).json()["access_token"]
            docs = client.get(
                f"https://127.0.0.1:{portal.https_port}/api/documents",
                headers={"Host": "portal.test", "Authorization": f"Bearer {token}"},
                extensions={"sni_hostname": "portal.test"},
            ).json()

    cut_short = {f.check_id for f in result.findings if "request budget ran out" in f.detail}
    assert cut_short, "the budget was meant to run out during the scan"
    for finding in result.findings:
        if finding.check_id in cut_short:
            assert finding.status is not Status.PASS, finding.check_id
    # Only the two seeded documents are left: every probe document was removed again.
    assert [d["id"] for d in docs] == [1, 2]
