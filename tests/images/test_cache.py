"""The image cache's stage rules, on a temporary directory: a finished stage is reused without producing it
again, a failed one leaves nothing that looks finished, and pruning keeps the other kinds' stages."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ironworks.images import cache


def _producer(calls: list[Path], *, fail: bool = False) -> Callable[[Path], None]:
    def produce(target: Path) -> None:
        calls.append(target)
        target.mkdir()
        (target / "disk.raw").write_bytes(b"x")
        if fail:
            raise RuntimeError("mkfs failed")
        (target / "manifest.json").write_text("{}")

    return produce


def test_a_finished_stage_is_reused(tmp_path: Path) -> None:
    calls: list[Path] = []
    assert cache.stage(tmp_path, "tiny-aaa", "manifest.json", _producer(calls), force=False) is False
    assert cache.stage(tmp_path, "tiny-aaa", "manifest.json", _producer(calls), force=False) is True
    assert len(calls) == 1 and (tmp_path / "tiny-aaa/disk.raw").is_file()
    assert cache.stage(tmp_path, "tiny-aaa", "manifest.json", _producer(calls), force=True) is False
    assert len(calls) == 2


def test_a_failed_stage_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="mkfs failed"):
        cache.stage(tmp_path, "tiny-bbb", "manifest.json", _producer([], fail=True), force=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_pruning_keeps_one_older_image_and_every_base(tmp_path: Path) -> None:
    for age, name in enumerate(["tiny-k3", "tiny-k2", "tiny-k1", "tiny-base-b1", "debian-rootfs-r1"]):
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (1000 - age, 1000 - age))
    cache.stage(tmp_path, "tiny-k4", "manifest.json", _producer([]), force=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["debian-rootfs-r1", "tiny-base-b1", "tiny-k3", "tiny-k4"]


def test_keys_change_with_any_input() -> None:
    base = {"suite": "bookworm", "packages": ["a", "b"]}
    assert cache.key_of(base) == cache.key_of(dict(reversed(list(base.items()))))
    assert cache.key_of(base) != cache.key_of({**base, "packages": ["a", "b", "c"]})
