"""Tenant networking: networks, VIF attachment and NIC selection, switch drivers."""
