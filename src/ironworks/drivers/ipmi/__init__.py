"""IPMI 2.0 (RMCP+) through pyghmi: ``info.py`` (driver_info), ``client.py`` (the library boundary),
``interfaces.py`` (the ``ipmitool`` power and management interfaces)."""
