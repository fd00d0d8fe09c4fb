"""Redfish through sushy: ``info.py`` (driver_info), ``client.py`` (the library boundary), ``interfaces.py``
(the ``redfish`` power and management interfaces)."""
