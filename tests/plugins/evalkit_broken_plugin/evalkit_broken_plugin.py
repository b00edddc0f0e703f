"""A plugin whose dependency is missing: loading its task fails."""

import evalkit_dependency_that_is_not_installed  # noqa: F401


def broken_words() -> None:
    """Never reached."""
