"""Boot interfaces: how a node's next boot is steered (``ipxe``/``pxe`` netboot through the conductor's dnsmasq)."""
