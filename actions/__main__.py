"""OpenWhisk entry: the action zip has this file at its root and the logfwd package beside it."""

from logfwd.entries.openwhisk import main  # noqa: F401  (OpenWhisk calls main(params))
