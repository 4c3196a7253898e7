"""logfwd: a serverless log forwarder.

Sources (OpenWhisk activations, ...) produce structured events, sinks (Lumberjack v2, ...) deliver
them, and the pipeline moves the checkpoint only after the sink confirmed delivery.
"""

import logging

__version__ = "0.1.0"

# A library never configures logging; entry points do.
logging.getLogger(__name__).addHandler(logging.NullHandler())
