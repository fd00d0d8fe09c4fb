"""One audit row the database refuses never costs other requests their records.

A row with a NUL character in its path is put into the recorder while 40 concurrent changes are being recorded,
so that it lands in the middle of their group-committed batch. PostgreSQL refuses NUL in text itself; on SQLite,
which stores it, the same refusal is an injected fault. The first batch write is held (injected) until the bad
row and at least 20 other records are queued, so the bad row is in a shared batch by construction.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import select

from ironworks.db.models import AuditRecord
from tests.auth.conftest import MEMBER, client
from tests.auth.helpers import make_node

BAD_PATH = "/v1/nodes/bad\x00name"


def _wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_a_refused_row_in_a_batch_costs_no_other_request_its_record(auth_service, admin, db_backend, monkeypatch):
    recorder = auth_service.app.state.audit_recorder
    repo = recorder.repo
    real_add_many = repo.add_many
    gate = threading.Event()
    attempts: list[tuple[int, bool, bool]] = []  # (rows, had the bad row, failed)

    def add_many(rows: list[dict[str, Any]]) -> None:
        if not attempts:
            gate.wait(30)  # the first batch is held while the others queue up behind it
        bad = any("\x00" in str(value) for row in rows for value in row.values())
        try:
            if bad and db_backend.startswith("sqlite"):
                raise ValueError("NUL (0x00) characters are not allowed in text (injected, as PostgreSQL says)")
            real_add_many(rows)
        except Exception:
            attempts.append((len(rows), bad, True))
            raise
        attempts.append((len(rows), bad, False))

    uuid = make_node(admin, owner="acme")["uuid"]
    monkeypatch.setattr(repo, "add_many", add_many)

    def change(i: int) -> httpx.Response:
        with client(auth_service, MEMBER) as c:
            return c.patch(f"/v1/nodes/{uuid}", json=[{"op": "add", "path": f"/extra/k{i}", "value": i}])

    def inject() -> None:
        recorder.record(identity=None, method="DELETE", path=BAD_PATH, status=400, request_id="req-bad", node_uuid=None)

    with ThreadPoolExecutor(max_workers=41) as pool:
        answers = [pool.submit(change, i) for i in range(40)]
        _wait_for(lambda: recorder._writing, "the first batch to be written")
        injected = pool.submit(inject)
        _wait_for(lambda: len(recorder._queue) >= 21, "records queued behind the first batch")
        gate.set()
        injected.result(timeout=60)
        answers = [a.result(timeout=60) for a in answers]

    assert {r.status_code for r in answers} == {200}
    shared = [a for a in attempts if a[1] and a[0] > 1]
    assert shared and shared[0][2], attempts  # the bad row's batch was shared, and it failed as a whole
    with auth_service.services.db.engine.connect() as conn:
        table = AuditRecord.__table__
        rows = conn.execute(select(table).where((table.c.user == MEMBER.name) | (table.c.user.is_(None)))).all()
    written = {r.request_id: r for r in rows}
    expected = {r.headers["Openstack-Request-Id"] for r in answers}
    assert expected <= set(written), f"{len(expected - set(written))} of 40 records lost"
    assert len(rows) == 41  # each exactly once, the bad request's too, its NUL escaped
    assert written["req-bad"].path == "/v1/nodes/bad\\x00name"
