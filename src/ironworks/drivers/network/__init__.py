"""Network interfaces that move a node's switch ports between networks (``vlan``)."""
