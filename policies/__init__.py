"""The access policy: Casbin model and policy files, and the one module that imports casbin."""

from policies.engine import PERMISSIONS, Cover, PolicyEngine

__all__ = ["PERMISSIONS", "Cover", "PolicyEngine"]
