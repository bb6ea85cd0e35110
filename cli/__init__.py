"""The `homeward` command."""
