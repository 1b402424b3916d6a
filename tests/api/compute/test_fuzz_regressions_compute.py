"""Compute regressions found by `make fuzz` (reports/fuzz.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from kumo.common.config import Settings
from kumo.common.context import RequestContext
from kumo.compute.service.image_proxy import GlanceImageProxy
from tests.api.compute._network_proxies import ProxyCloud
from tests.api.compute._network_proxies import proxy_cloud as proxy_cloud
from tests.api.compute._servers import ServersCloud
from tools.fuzz.routes import error_format_problem


def test_a_tag_outside_latin1_gets_a_percent_encoded_location(
    servers_cloud: ServersCloud,
) -> None:
    # Header values are Latin-1; a raw tag in Location made Starlette raise (500).
    c = servers_cloud
    sid = c.demo.boot()["id"]
    tag = "\u00e9t\u00e9-\U0001f600"
    added = c.demo.put(f"/servers/{sid}/tags/{quote(tag)}", None, "2.26")
    assert added.status_code == 201
    assert added.headers["Location"].endswith(f"/servers/{sid}/tags/{quote(tag)}")
    listed = c.demo.get(f"/servers/{sid}/tags", "2.26").json()
    assert listed == {"tags": [tag]}


#: Ids a caller may put in a proxy route's URL: control characters, ``?``, ``/`` (encoded),
#: non-ASCII. They went unencoded into the networking/image API URL: 500 (`make fuzz`).
ODD_IDS = ["%03", "a%3Fb", "..%2F..%2Fnetworks", "%C2%B0%0A%F3%8D%B1%BE"]


def test_odd_ids_in_network_proxy_routes_are_404(proxy_cloud: ProxyCloud) -> None:
    c = proxy_cloud
    # DELETE on os-networks is 410 whatever the id (nova-network is gone), so GET there.
    calls = [("GET", "/os-floating-ips"), ("DELETE", "/os-floating-ips")]
    calls += [("GET", "/os-networks"), ("GET", "/os-tenant-networks")]
    for method, route in calls:
        for odd in ODD_IDS:
            resp = c.demo.client.request(
                method, f"/compute/v2.1{route}/{odd}", headers=c.demo.headers(None)
            )
            assert resp.status_code == 404, (route, odd, method, resp.text)
            assert error_format_problem("/compute", 404, resp.content) is None, resp.text


class _Recorder:
    """A service session that records the paths the image proxy asks for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []

    async def request(self, method: str, service: str, path: str, **kw: Any) -> httpx.Response:
        self.calls.append((method, path, kw.get("json")))
        return httpx.Response(200, json={"id": "x", "name": "n", "a/b": "1"})


def test_the_image_proxy_encodes_ids_and_json_pointers(tmp_path: Path) -> None:
    proxy = GlanceImageProxy(Settings(state_dir=tmp_path))
    recorder = _Recorder()
    proxy._session = recorder  # type: ignore[assignment]
    ctx = RequestContext(token_id="t")
    asyncio.run(proxy.get(ctx, "a?b/../\x03\u00e9"))
    asyncio.run(proxy.delete(ctx, "../x"))
    asyncio.run(proxy.set_properties(ctx, "i/d", {"a/b": "2", "c~d": "3"}, []))
    paths = [p for _, p, _ in recorder.calls]
    assert paths[0] == "/v2/images/a%3Fb%2F..%2F%03%C3%A9"
    assert paths[1] == "/v2/images/..%2Fx"
    assert paths[-1] == "/v2/images/i%2Fd"
    ops = recorder.calls[-1][2]
    assert {"op": "replace", "path": "/a~1b", "value": "2"} in ops
    assert {"op": "add", "path": "/c~0d", "value": "3"} in ops
