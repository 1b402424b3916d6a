from __future__ import annotations
import time
from pathlib import Path
from fastapi.testclient import TestClient
from kumo.common.config import Settings
from tests.agents.test_compute_real import C, GUEST_IMAGE_ID, _action, _wait_status, real_cloud, settings  # noqa: F401
from tests.conftest import issue


def test_tmp(real_cloud: TestClient, settings: Settings) -> None:
    client = real_cloud
    token = issue(client)
    h = {"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.45"}
    r = client.post(f"{C}/servers", json={"server": {"name": "a", "imageRef": GUEST_IMAGE_ID, "flavorRef": "1", "networks": "none"}}, headers=h)
    sid = r.json()["server"]["id"]
    _wait_status(client, token, sid, "ACTIVE")
    r = client.post(f"{C}/servers/{sid}/action", json={"createImage": {"name": "snap"}}, headers=h)
    image_id = r.json()["image_id"]
    for _ in range(120):
        img = client.get(f"/image/v2/images/{image_id}", headers=h).json()
        if img.get("status") == "active":
            break
        time.sleep(0.5)
    print(img)
    client.delete(f"{C}/servers/{sid}", headers=h)
    r = client.post(f"{C}/servers", json={"server": {"name": "b", "imageRef": image_id, "flavorRef": "1", "networks": "none"}}, headers=h)
    sid2 = r.json()["server"]["id"]
    for _ in range(120):
        s = client.get(f"{C}/servers/{sid2}", headers=h).json()["server"]
        if s["status"] in ("ACTIVE", "ERROR"):
            break
        time.sleep(0.5)
    print(s["status"], s.get("fault"))
    ev = client.get(f"{C}/servers/{sid2}/os-instance-actions", headers=h).json()
    req = ev["instanceActions"][0]["request_id"]
    d = client.get(f"{C}/servers/{sid2}/os-instance-actions/{req}", headers={**h, "X-Auth-Token": token}).json()
    for e in d["instanceAction"]["events"]:
        if e["result"] != "Success":
            print(e["event"], (e.get("traceback") or "")[-1200:])
