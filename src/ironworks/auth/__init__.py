"""Who is calling, and what they may do: authentication, project-scoped roles and the audit log.

The story of one request (docs/auth.md):

1. ``middleware.AuthMiddleware`` (wrapped around the app in api/app.py) reads ``Authorization: Basic`` when
   ``auth_strategy = http_basic``, checks the password against the users table (``authenticator.py``; bcrypt
   hashes, ``passwords.py``) or an optional htpasswd file (``htpasswd.py``) and puts an ``Identity`` in the
   request scope; a missing or wrong password is a 401 with ``WWW-Authenticate``. With ``noauth`` every caller
   is the admin ``NOAUTH`` identity, as in Ironic.
2. ``api/common.py``'s ``endpoint`` hands the identity to ``hook.authorize``: the route's rule (``policy.py``,
   data) names the node the request touches; a node the caller's project neither owns nor leases is a 404,
   an action the role does not allow a 403. Lists get a project filter in the SQL query (``hook.list_scope``).
3. After the answer, the middleware records every POST/PATCH/PUT/DELETE in the audit log (``audit.py``):
   who, what, when, the status and the request id; never a body.
"""
