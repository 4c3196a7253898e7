"""Logplex drain bodies built from Heroku's documented log lines, and the seed's own example body."""

TS = "2026-11-30T06:02:17.590861+00:00"

# (app, proc, message) as Heroku documents them (Heroku Error Codes, Logging).
ROUTER_H12 = ('at=error code=H12 desc="Request timeout" method=GET path="/" host=myapp.herokuapp.com '
              'request_id=8601b555-6a83-4c12-8269-97c8e32cdb22 fwd="204.204.204.204" dyno=web.1 '
              'connect=1ms service=30001ms status=503 bytes=0 protocol=https')
ROUTER_H10 = ('at=error code=H10 desc="App crashed" method=GET path="/" host=myapp.herokuapp.com '
              'fwd=17.17.17.17 dyno= connect= service= status=503 bytes=')
ROUTER_INFO = ('at=info method=GET path="/" host=myapp.herokuapp.com request_id=3f0ee1b4 fwd="1.2.3.4" '
               'dyno=web.1 connect=2ms service=45ms status=200 bytes=1234 protocol=https')
R14 = "Error R14 (Memory quota exceeded)"
R10 = "Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 60 seconds of launch"
L10 = "Error L10 (output buffer overflow): 500 messages dropped since 2026-11-30T06:00:00+00:00."
MEMORY = "Process running mem=1028MB(103.3%)"

DOCUMENTED = [
    ("heroku", "router", ROUTER_H12),
    ("heroku", "router", ROUTER_INFO),
    ("heroku", "router", ROUTER_H10),
    ("heroku", "web.1", MEMORY),
    ("heroku", "web.1", R14),
    ("app", "web.1", "Started GET \"/\" for 1.2.3.4"),
    ("heroku", "web.2", R10),
    ("heroku", "logplex", L10),
    ("heroku", "router", ROUTER_H12),
]
DOCUMENTED_CODES = {"H12": 2, "H10": 1, "R14": 1, "R10": 1, "L10": 1}


def frame(app: str, proc: str, message: str, *, priority: int = 158, timestamp: str = TS) -> bytes:
    """One octet-counted frame as logplex's HTTPS drain writes it: no structured data, a newline."""
    msg = f"<{priority}>1 {timestamp} host {app} {proc} - {message}\n".encode()
    return b"%d %s" % (len(msg), msg)


def body(lines) -> bytes:
    return b"".join(frame(*line) for line in lines)


# keithduncan/logplex-statsd's README, "Request Body" (the frames back to back; the seed's copy lost
# nothing but the page's line wrapping). Counted by logplex-statsd as R89 -> :8126 and R99, L99,
# H12 -> :8127 with crc32 mod 2 routing.
SEED_BODY = (
    b'106 <10>123 2015-12-03T23:12:17+11:00 keiths-macbook-pro.local logplex-parse 420 - [foo bar="baz"] error=12345'
    b'97 <10>123 2015-12-03T23:12:17+11:00 keiths-macbook-pro.local logplex-parse 420 - - Error R99 heroku'
    b'97 <10>123 2015-12-03T23:12:17+11:00 keiths-macbook-pro.local logplex-parse 420 - - Error R89 heroku'
    b'97 <10>123 2015-12-03T23:12:17+11:00 keiths-macbook-pro.local logplex-parse 420 - - Error L99 heroku'
    b'122 <10>123 2015-12-03T23:12:17+11:00 keiths-macbook-pro.local logplex-parse 420 - - at=error code=H12 '
    b'desc="a thing happened"'
)
