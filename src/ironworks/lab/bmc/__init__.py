"""BMC emulators for tests and the lab.

* ``ipmi.py``: an IPMI 2.0 / RMCP+ server (pyghmi's ``Bmc``) with fault injection, fronting
* ``machines.py``: a simulated server or a QEMU process driven through QMP (``qmp.py``); ``sdr.py`` its sensors;
* ``redfish.py``: sushy-tools' ``sushy-emulator --fake`` as a subprocess;
* ``runner.py``: ``ironworks lab bmc --count N``, many BMCs in one process.
"""
