"""Inspection rules (API 1.96), as Ironic's ``ironic/common/inspection_rules``: a small pure engine.

* ``interpolate``: ``{inventory[cpu][count]}``-style variables (Python format syntax over ``node``,
  ``inventory``, ``plugin_data`` and a loop's ``item``), through a formatter that refuses attribute access
  except on the node view and unbounded format widths; secrets masked.
* ``regexes``: ``matches``/``contains`` regular expressions, bounded so none can backtrack catastrophically.
* ``operators``: conditions (``eq lt gt is-empty in-net matches contains one-of is-none is-true is-false``,
  each invertible with ``!``; ``loop`` with ``multiple`` any/all/first/last).
* ``actions``: what a matching rule does to a :class:`~.actions.Target` (the node's fields, traits, ports and the
  plugin data), never to the database: the caller writes the target back.
* ``engine``: rules in priority order, conditions then actions.
* ``validation``: a rule body as Ironic's schema and plugins check it (400 in Ironic's wording).
* ``service``: create, update (JSON Patch), delete.
"""
