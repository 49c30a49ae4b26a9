"""Errors that reach the user as one line and exit code 2 (no traceback)."""


class UserError(Exception):
    """Bad input from the user: a name, a value, a file. The message says what to do."""
