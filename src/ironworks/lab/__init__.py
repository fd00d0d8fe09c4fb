"""The virtual lab: emulated BMCs (``lab.bmc``), QEMU servers, network namespaces and ramdisk builds.

Nothing here is imported by the service at run time; tests, benchmarks and ``ironworks lab …`` use it.
"""
