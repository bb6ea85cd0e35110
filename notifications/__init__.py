"""The outbox drained through Apprise, with messages that carry no personal data."""
