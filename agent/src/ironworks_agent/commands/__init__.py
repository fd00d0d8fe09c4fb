"""Commands the service sends the agent: one handler per command name, dispatched by ``dispatch.run``."""
