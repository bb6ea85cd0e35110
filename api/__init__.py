"""FastAPI: authentication, routes, schemas."""
