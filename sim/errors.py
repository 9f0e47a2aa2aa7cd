"""Errors a user can cause and fix: each carries a one-line message naming the key, file or value.

Entry points catch these, print the message on one line and exit with status 2 (no traceback).
"""


class UserError(ValueError):
    """Base class: bad input from the user (config, data, command line)."""


class ConfigError(UserError):
    """A configuration value or key that cannot be right."""


class DataError(UserError):
    """A data file that is missing, unreadable or inconsistent."""
