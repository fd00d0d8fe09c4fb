"""The one error an image build raises: the message names the step and carries the tail of its output."""

from __future__ import annotations


class ImageBuildError(RuntimeError):
    """A step of ``ironworks image build`` failed (missing tool, debootstrap, mkfs, grub, …)."""
