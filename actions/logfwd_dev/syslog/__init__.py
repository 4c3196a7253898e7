"""A small RFC 5424 syslog receiver for local runs: ``logfwd demo kinesis`` delivers to it (rsyslog is
not on a laptop). ``parse`` is pure (framing and message parts), ``server`` the sockets."""
