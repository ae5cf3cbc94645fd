"""The access policy: Casbin model and policy files, and the one module that imports casbin."""

from policies.engine import PAGE_INDEX, PERMISSIONS, Cover, PolicyEngine

__all__ = ["PAGE_INDEX", "PERMISSIONS", "Cover", "PolicyEngine"]
