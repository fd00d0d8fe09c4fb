"""The service side of the ramdisk agent: the command channel, the ``direct`` deploy, ``agent`` raid and
``agent`` inspect interfaces, and the continuation of a waiting flow when the agent calls back.

See docs/agent-protocol.md for the wire protocol and ``resume.py`` for how a heartbeat moves a flow on.
"""
