"""Page routes, one module per part of the work."""
