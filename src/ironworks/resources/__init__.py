"""What both the API and the domain need to know about a resource, below both of them.

* ``microversion`` — Ironic's API versions: which field and which behaviour exists from which version.
* ``patch`` — RFC 6902 JSON Patch as Ironic applies it to its objects.
* ``schemas/`` — one module per resource: request models, the fields it shows at each version, validation.
* ``timestamps`` — how a stored time is written in an answer.

``api/`` parses requests and renders answers with these; ``inventory/``, ``conductor/``, ``networking/``,
``scheduler/`` and ``instances/`` validate and patch with them. Nothing here imports ``api/``.
"""
