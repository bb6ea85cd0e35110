"""The rules of a repatriation: workflow, services and access policy."""
