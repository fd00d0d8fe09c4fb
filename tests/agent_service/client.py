"""A tiny agent played by the test: speaks docs/agent-protocol.md to the real service over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

TOKEN_HEADER = "X-Ironworks-Agent-Token"


class PlayedAgent:
    def __init__(self, base_url: str, mac: str, boot_secret: str | None = None) -> None:
        self.mac = mac
        #: the boot's secret from the node's iPXE script (as Ironworks' agent reads it from /proc/cmdline)
        self.boot_secret = boot_secret
        self.http = httpx.Client(base_url=base_url, timeout=30,
                                 headers={"X-OpenStack-Ironic-API-Version": "1.62",
                                          "User-Agent": "ironworks-agent/test"})
        self.node: str | None = None
        self.token: str | None = None

    def close(self) -> None:
        self.http.close()

    def _auth(self) -> dict[str, str]:
        return {TOKEN_HEADER: self.token} if self.token else {}

    def lookup(self) -> httpx.Response:
        headers = {"X-Ironworks-Boot-Secret": self.boot_secret} if self.boot_secret else {}
        r = self.http.get("/v1/lookup", params={"addresses": self.mac}, headers=headers)
        if r.status_code == 200:
            self.node = r.json()["node"]["uuid"]
            token = r.json()["config"]["agent_token"]
            if token != "******":
                self.token = token
        return r

    def heartbeat(self, **body: Any) -> httpx.Response:
        payload = {"callback_url": "", "agent_version": "0.1.0", "busy": False, "current_command": None,
                   "progress": None, **body}
        return self.http.post(f"/v1/heartbeat/{self.node}", json=payload, headers=self._auth())

    def poll(self, wait: int = 5) -> dict[str, Any] | None:
        r = self.http.get(f"/v1/agent/{self.node}/commands/next", params={"wait": wait}, headers=self._auth())
        assert r.status_code in (200, 204), r.text
        return r.json()["command"] if r.status_code == 200 else None

    def result(self, command_id: str, result: dict[str, Any] | None = None,
               error: dict[str, Any] | None = None) -> httpx.Response:
        body = {"status": "FAILED" if error else "SUCCEEDED", "result": None if error else (result or {}),
                "error": error, "started_at": "2026-11-23T11:20:00.000Z", "finished_at": "2026-11-23T11:20:01.000Z"}
        return self.http.post(f"/v1/agent/{self.node}/commands/{command_id}/result", json=body,
                              headers=self._auth())

    def run(self, answers: dict[str, dict[str, Any]], until: int, wait: int = 5) -> list[dict[str, Any]]:
        """Run ``until`` commands: poll, answer from ``answers`` (by name; missing: {}), post, heartbeat."""
        seen: list[dict[str, Any]] = []
        for n in range(until):
            command = self.poll(wait)
            assert command is not None, f"no command after {[c['name'] for c in seen]}"
            seen.append(command)
            answer = answers.get(command["name"], {})
            r = self.result(command["id"], error=answer.get("error"), result=answer.get("result"))
            assert r.status_code == 204, r.text
            # after the last command the node may have left the ramdisk states already: 401 then
            assert self.heartbeat().status_code in ((202, 409, 401) if n == until - 1 else (202, 409))
        return seen
