"""Picking nodes for allocations: pure filters (filters.py), flavors, tenancy and the allocation service."""
