"""The development sub-commands of ``logfwd``: emulate, receive, demo."""
