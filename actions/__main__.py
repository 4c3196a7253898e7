"""OpenWhisk entries: the action zip has this file at its root and the logfwd package beside it.

``main`` is the scheduled forwarder's (manifest ``main: main``); ``web`` is the raw web action's, e.g.
the Heroku log drain (manifest ``main: web``). Both come from the same zip.
"""

from logfwd.entries.openwhisk import main  # noqa: F401  (OpenWhisk calls main(params))
from logfwd.entries.web import main as web  # noqa: F401
