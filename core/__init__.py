"""Settings, database engine, clock and error types shared by every layer."""
