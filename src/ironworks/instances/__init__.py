"""One-call servers (``/v1/instances``) and the image catalogue (``/v1/images``): docs/instances.md."""
