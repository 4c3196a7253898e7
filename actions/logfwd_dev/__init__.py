"""Development tools for logfwd: the OpenWhisk API emulator, the Lumberjack receiver and the demo.

They stand in for the platform and for Logstash on a laptop and in the tests. They are not part of
the deployed action: ``make build`` ships the ``logfwd`` package only.
"""
