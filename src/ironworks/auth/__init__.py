"""Who is calling, and what they may do: authentication, project-scoped roles and the audit log.

The story of one request (docs/auth.md):

1. ``middleware.AuthMiddleware`` (wrapped around the app in api/app.py) reads ``Authorization: Basic`` when
   ``auth_strategy = http_basic``, checks the password against the users table (``authenticator.py``; bcrypt
   hashes on their own threads, ``passwords.py``) or an optional htpasswd file (``htpasswd.py``) and puts an
   ``Identity`` in the request scope; a missing or wrong password is a 401 with ``WWW-Authenticate``, too many
   failures for the name or the address a 429 (``throttle.py``). With ``noauth`` the middleware puts the admin
   ``NOAUTH`` identity in, as in Ironic; a request the middleware never saw is ``ANONYMOUS`` (public routes
   only), never the admin.
2. ``api/common.py``'s ``endpoint`` hands the identity to ``hook.authorize``: the route's rule (``policy.py``,
   data) names the node the request touches; a node the caller's project neither owns nor leases is a 404,
   an action the role does not allow a 403. Lists get a project filter in the SQL query (``hook.list_scope``).
3. After the answer, the middleware records every POST/PATCH/PUT/DELETE in the audit log (``audit.py``):
   who, what, when, the status and the request id; never a body.
"""
