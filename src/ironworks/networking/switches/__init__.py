"""Switch drivers: put a node's switch ports into the VLANs its current work needs (see base.py)."""
