"""ironworks-agent: the program that runs inside the deploy ramdisk (standard library only).

It looks its node up by MAC, heartbeats, long-polls the Ironworks service for commands (inventory, disk erase,
image write, config drive) and posts their results. Every destructive disk operation goes through
``safety.DeviceGuard``. Nothing here imports ``ironworks``.
"""

__version__ = "0.1.0"
