"""Load-balancer access log lines -> ECS documents: AWS's documented example lines for each type and
listener, then the edge cases. Every document is compared whole, so every field is checked."""

import pytest

from logfwd.codecs.elblog import TABLES, is_control_line, parse_line
from logfwd.codecs.elbtokens import split_fields
from logfwd.errors import LineFormatError

TG = "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067"
CERT = "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012"
ALB_NAME = "app/my-loadbalancer/50dc6c495c0c9188"


def skeleton(protocol: str, outcome: str | None, start: str | None, end: str, duration: int | None) -> dict:
    event = {"kind": "event", "module": "aws", "dataset": "aws.elb",
             "category": "web" if protocol == "http" else "network", "end": end}
    if outcome:
        event["outcome"] = outcome
    if start:
        event["start"] = start
    if duration is not None:
        event["duration"] = duration
    return {"@timestamp": end, "event": event, "cloud": {"provider": "aws"}}


def url(original, scheme, domain, port, path):
    return {"original": original, "scheme": scheme, "domain": domain, "port": port, "path": path}


# --- classic ELB: the four examples of "Access logs for your Classic Load Balancer" -----------------

CLASSIC_TS = "2015-05-13T23:39:43.945958Z"


def classic_times(request, backend, response):
    return {"request_processing_time": {"sec": request}, "backend_processing_time": {"sec": backend},
            "response_processing_time": {"sec": response}}


def test_classic_http_listener():
    line = (f'{CLASSIC_TS} my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 '
            '"GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -')
    assert parse_line(line) == {
        **skeleton("http", "success", None, CLASSIC_TS, 1_178_000),
        "aws": {"elb": {"protocol": "http", "name": "my-loadbalancer",
                        "backend": {"ip": "10.0.0.1", "port": 80, "http": {"response": {"status_code": 200}}},
                        **classic_times(0.000073, 0.001048, 0.000057)}},
        "source": {"ip": "192.168.131.39", "port": 2817},
        "http": {"request": {"method": "GET", "body": {"bytes": 0}},
                 "response": {"status_code": 200, "body": {"bytes": 29}}, "version": "1.1"},
        "url": url("http://www.example.com:80/", "http", "www.example.com", 80, "/"),
        "user_agent": {"original": "curl/7.38.0"},
    }


def test_classic_https_listener():
    line = (f'{CLASSIC_TS} my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000086 0.001048 0.001337 200 200 0 57 '
            '"GET https://www.example.com:443/ HTTP/1.1" "curl/7.38.0" DHE-RSA-AES128-SHA TLSv1.2')
    assert parse_line(line) == {
        **skeleton("http", "success", None, CLASSIC_TS, 2_471_000),
        "aws": {"elb": {"protocol": "http", "name": "my-loadbalancer",
                        "backend": {"ip": "10.0.0.1", "port": 80, "http": {"response": {"status_code": 200}}},
                        **classic_times(0.000086, 0.001048, 0.001337),
                        "ssl_cipher": "DHE-RSA-AES128-SHA", "ssl_protocol": "TLSv1.2"}},
        "source": {"ip": "192.168.131.39", "port": 2817},
        "http": {"request": {"method": "GET", "body": {"bytes": 0}},
                 "response": {"status_code": 200, "body": {"bytes": 57}}, "version": "1.1"},
        "url": url("https://www.example.com:443/", "https", "www.example.com", 443, "/"),
        "user_agent": {"original": "curl/7.38.0"},
        "tls": {"cipher": "DHE-RSA-AES128-SHA", "version": "1.2", "version_protocol": "tls"},
    }


def test_classic_tcp_listener():
    line = (f'{CLASSIC_TS} my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 0.000041 - - 82 305 '
            '"- - - " "-" - -')
    assert parse_line(line) == {
        **skeleton("tcp", None, None, CLASSIC_TS, 1_138_000),
        "aws": {"elb": {"protocol": "tcp", "name": "my-loadbalancer", "backend": {"ip": "10.0.0.1", "port": 80},
                        **classic_times(0.001069, 0.000028, 0.000041)}},
        "source": {"ip": "192.168.131.39", "port": 2817, "bytes": 82},
        "destination": {"bytes": 305},
    }


def test_classic_ssl_listener():
    line = (f'{CLASSIC_TS} my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.001065 0.000015 0.000023 - - 57 502 '
            '"- - - " "-" ECDHE-ECDSA-AES128-GCM-SHA256 TLSv1.2')
    assert parse_line(line) == {
        **skeleton("tcp", None, None, CLASSIC_TS, 1_103_000),
        "aws": {"elb": {"protocol": "tcp", "name": "my-loadbalancer", "backend": {"ip": "10.0.0.1", "port": 80},
                        **classic_times(0.001065, 0.000015, 0.000023),
                        "ssl_cipher": "ECDHE-ECDSA-AES128-GCM-SHA256", "ssl_protocol": "TLSv1.2"}},
        "source": {"ip": "192.168.131.39", "port": 2817, "bytes": 57},
        "destination": {"bytes": 502},
        "tls": {"cipher": "ECDHE-ECDSA-AES128-GCM-SHA256", "version": "1.2", "version_protocol": "tls"},
    }


def test_classic_not_dispatched_has_no_times_backend_or_duration():
    line = (f'{CLASSIC_TS} my-loadbalancer 192.168.131.39:2817 - -1 -1 -1 503 - 0 0 '
            '"GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -')
    assert parse_line(line) == {
        **skeleton("http", "failure", None, CLASSIC_TS, None),
        "aws": {"elb": {"protocol": "http", "name": "my-loadbalancer"}},
        "source": {"ip": "192.168.131.39", "port": 2817},
        "http": {"request": {"method": "GET", "body": {"bytes": 0}},
                 "response": {"status_code": 503, "body": {"bytes": 0}}, "version": "1.1"},
        "url": url("http://www.example.com:80/", "http", "www.example.com", 80, "/"),
        "user_agent": {"original": "curl/7.38.0"},
    }


def test_classic_tcp_idle_timeout():
    line = f'{CLASSIC_TS} my-loadbalancer 192.168.131.39:2817 - -1 -1 -1 - - 82 0 "- - - " "-" - -'
    assert parse_line(line) == {
        **skeleton("tcp", None, None, CLASSIC_TS, None),
        "aws": {"elb": {"protocol": "tcp", "name": "my-loadbalancer"}},
        "source": {"ip": "192.168.131.39", "port": 2817, "bytes": 82},
        "destination": {"bytes": 0},
    }


# --- ALB: the examples of "Access logs for your Application Load Balancer" --------------------------

ALB_TIME, ALB_START = "2018-07-02T22:23:00.186641Z", "2018-07-02T22:22:48.364000Z"
ALB_DURATION = 11_822_641_000  # time - request_creation_time


def alb_line(kind, client, target, times, codes, nbytes, request, agent, tls, tail):
    return (f'{kind} {ALB_TIME} {ALB_NAME} {client} {target} {times} {codes} {nbytes} "{request}" "{agent}" {tls} '
            f'{tail}')


def test_alb_https_entry_with_every_current_field():
    line = alb_line("https", "192.168.131.39:2817", "10.0.0.1:80", "0.086 0.048 0.037", "200 200", "0 57",
                    "GET https://www.example.com:443/ HTTP/1.1", "curl/7.46.0", "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2",
                    f'{TG} "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "{CERT}" 1 {ALB_START} '
                    '"authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90')
    assert len(split_fields(line)) == len(TABLES["ALB"][0]) == 30
    assert parse_line(line) == {
        **skeleton("http", "success", ALB_START, ALB_TIME, ALB_DURATION),
        "aws": {"elb": {
            "protocol": "http", "type": "https", "name": ALB_NAME,
            "backend": {"ip": "10.0.0.1", "port": 80, "http": {"response": {"status_code": 200}}},
            "request_processing_time": {"sec": 0.086}, "backend_processing_time": {"sec": 0.048},
            "response_processing_time": {"sec": 0.037},
            "ssl_cipher": "ECDHE-RSA-AES128-GCM-SHA256", "ssl_protocol": "TLSv1.2",
            "target_group": {"arn": TG}, "trace_id": "Root=1-58337281-1d84f3d73c47ec4e58577259",
            "chosen_cert": {"arn": CERT}, "matched_rule_priority": 1,
            "action_executed": ["authenticate", "forward"],
            "target_port": ["10.0.0.1:80"], "target_status_code": ["200"],
            "conn_trace_id": "TID_1234abcd5678ef90"}},
        "source": {"ip": "192.168.131.39", "port": 2817},
        "http": {"request": {"method": "GET", "body": {"bytes": 0}},
                 "response": {"status_code": 200, "body": {"bytes": 57}}, "version": "1.1"},
        "url": url("https://www.example.com:443/", "https", "www.example.com", 443, "/"),
        "user_agent": {"original": "curl/7.46.0"},
        "tls": {"cipher": "ECDHE-RSA-AES128-GCM-SHA256", "version": "1.2", "version_protocol": "tls"},
        "trace": {"id": "Root=1-58337281-1d84f3d73c47ec4e58577259"},
        "destination": {"domain": "www.example.com"},
    }


def test_alb_ipv6_client_and_target_classification_and_later_fields():
    line = alb_line("h2", "[2001:db8::c1]:48160", "[2001:db8::1]:9000", "0.000 0.002 0.000", "200 200", "5 257",
                    "GET https://10.0.2.105:773/p/a%20b?x=1&y=2 HTTP/2.0", "Mozilla/5.0 (X11; Linux) \\\"quoted\\\"",
                    "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.3",
                    f'{TG} "Root=1-58337327-72bd00b0343d75b906739c42" "-" "session-reused" -1 {ALB_START} '
                    '"waf,forward" "-" "-" "[2001:db8::1]:9000 [2001:db8::2]:9000" "200 503" "Ambiguous" '
                    '"UndefinedContentLengthSemantics" TID_abc "transformed.example.com" "/new" NEW_FIELD')
    doc = parse_line(line)
    assert doc["source"] == {"ip": "2001:db8::c1", "port": 48160}
    assert doc["aws"]["elb"]["backend"] == {"ip": "2001:db8::1", "port": 9000, "http": {"response": {"status_code": 200}}}
    assert doc["user_agent"] == {"original": 'Mozilla/5.0 (X11; Linux) "quoted"'}
    assert doc["url"] == {"original": "https://10.0.2.105:773/p/a%20b?x=1&y=2", "scheme": "https",
                          "domain": "10.0.2.105", "port": 773, "path": "/p/a%20b", "query": "x=1&y=2"}
    assert doc["http"]["version"] == "2.0"
    assert doc["tls"] == {"cipher": "ECDHE-RSA-AES128-GCM-SHA256", "version": "1.3", "version_protocol": "tls"}
    elb = doc["aws"]["elb"]
    assert elb["chosen_cert"] == {"arn": "session-reused"}
    assert "matched_rule_priority" not in elb  # -1: an evaluation error, as Filebeat: no field
    assert "destination" not in doc
    assert elb["action_executed"] == ["waf", "forward"]
    assert elb["target_port"] == ["[2001:db8::1]:9000", "[2001:db8::2]:9000"]
    assert elb["target_status_code"] == ["200", "503"]
    assert elb["classification"] == "Ambiguous"
    assert elb["classification_reason"] == "UndefinedContentLengthSemantics"
    assert elb["conn_trace_id"] == "TID_abc"
    assert elb["additional_fields"] == ["transformed.example.com", "/new", "NEW_FIELD"]


def test_alb_lambda_error_reason_and_no_target():
    line = alb_line("http", "192.168.131.39:2817", "-", "0.000 0.001 0.000", "502 -", "34 366",
                    "GET http://www.example.com:80/ HTTP/1.1", "curl/7.46.0", "- -",
                    f'{TG} "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 {ALB_START} '
                    '"forward" "-" "LambdaInvalidResponse" "-" "-" "-" "-" -')
    assert parse_line(line) == {
        **skeleton("http", "failure", ALB_START, ALB_TIME, ALB_DURATION),
        "aws": {"elb": {
            "protocol": "http", "type": "http", "name": ALB_NAME,
            "request_processing_time": {"sec": 0.0}, "backend_processing_time": {"sec": 0.001},
            "response_processing_time": {"sec": 0.0},
            "target_group": {"arn": TG}, "trace_id": "Root=1-58337364-23a8c76965a2ef7629b185e3",
            "matched_rule_priority": 0, "action_executed": ["forward"], "error": {"reason": "LambdaInvalidResponse"}}},
        "source": {"ip": "192.168.131.39", "port": 2817},
        "http": {"request": {"method": "GET", "body": {"bytes": 34}},
                 "response": {"status_code": 502, "body": {"bytes": 366}}, "version": "1.1"},
        "url": url("http://www.example.com:80/", "http", "www.example.com", 80, "/"),
        "user_agent": {"original": "curl/7.46.0"},
        "trace": {"id": "Root=1-58337364-23a8c76965a2ef7629b185e3"},
    }


def test_alb_redirect_and_websocket_types():
    redirect = parse_line(alb_line(
        "h2", "10.0.1.252:48160", "10.0.0.66:9000", "0.000 0.002 0.000", "200 200", "5 257",
        "GET https://10.0.2.105:773/ HTTP/2.0", "curl/7.46.0", "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2",
        f'{TG} "Root=1-58337327-72bd00b0343d75b906739c42" "-" "-" 1 {ALB_START} "redirect" "https://example.com:80/" "-"'))
    assert redirect["aws"]["elb"]["redirect_url"] == "https://example.com:80/"
    assert redirect["aws"]["elb"]["action_executed"] == ["redirect"]
    assert "target_port" not in redirect["aws"]["elb"]  # an older file: no target lists, no classification
    websocket = parse_line(alb_line(
        "wss", "10.0.0.140:44244", "10.0.0.171:8010", "0.000 0.001 0.000", "101 101", "218 786",
        "GET https://10.0.0.30:443/ HTTP/1.1", "-", "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2",
        f'{TG} "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 {ALB_START} "forward" "-" "-" "10.0.0.171:8010" '
        '"101" "-" "-" -'))
    assert websocket["aws"]["elb"]["type"] == "wss"
    assert websocket["http"]["response"]["status_code"] == 101
    assert "user_agent" not in websocket  # "-": absent


def test_alb_malformed_request_keeps_what_it_has():
    line = (f'http {ALB_TIME} {ALB_NAME} 192.168.131.39:2817 - -1 -1 -1 400 - 0 0 "- http://www.example.com:80- -" '
            f'"-" - - - "-" "-" "-" - {ALB_START} "-" "-" "-" "-" "-" "-" "-" -')
    doc = parse_line(line)
    assert doc["http"] == {"request": {"body": {"bytes": 0}}, "response": {"status_code": 400, "body": {"bytes": 0}}}
    assert doc["url"] == {"original": "http://www.example.com:80-", "scheme": "http", "domain": "www.example.com",
                          "path": ""}
    assert doc["aws"]["elb"] == {"protocol": "http", "type": "http", "name": ALB_NAME}
    assert doc["event"]["outcome"] == "failure"


# --- NLB TLS listener: the example of "Access logs for your Network Load Balancer" --------------------

NLB_NAME = "net/my-network-loadbalancer/c6e77e28c25b2234"
NLB_CERT = "arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99"
NLB_DOMAIN = "my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com"


def test_nlb_tls_entry():
    line = (f'tls 2.0 2020-04-01T08:51:42 {NLB_NAME} g3d4b5e8bb8464cd 72.21.218.154:51341 172.100.100.185:443 5 2 98 '
            f'246 - {NLB_CERT} - ECDHE-RSA-AES128-SHA tlsv12 - {NLB_DOMAIN} h2 h2 "h2","http/1.1" 2020-04-01T08:51:20')
    assert parse_line(line) == {
        **skeleton("tcp", None, "2020-04-01T08:51:20Z", "2020-04-01T08:51:42Z", 5_000_000),
        "aws": {"elb": {
            "protocol": "tcp", "type": "tls", "version": "2.0", "name": NLB_NAME, "listener": "g3d4b5e8bb8464cd",
            "backend": {"ip": "172.100.100.185", "port": 443},
            "connection_time": {"ms": 5.0}, "tls_handshake_time": {"ms": 2.0},
            "chosen_cert": {"arn": NLB_CERT}, "ssl_cipher": "ECDHE-RSA-AES128-SHA", "ssl_protocol": "tlsv12",
            "alpn_fe_protocol": "h2", "alpn_be_protocol": "h2", "alpn_client_preference_list": ["h2", "http/1.1"]}},
        "source": {"ip": "72.21.218.154", "port": 51341, "bytes": 98},
        "destination": {"bytes": 246, "domain": NLB_DOMAIN},
        "tls": {"cipher": "ECDHE-RSA-AES128-SHA", "version": "1.2", "version_protocol": "tls", "next_protocol": "h2"},
    }


def test_nlb_2020_entry_with_21_fields_failed_handshake_and_encoded_domain():
    line = (f'tls 2.0 2018-12-20T02:59:40 {NLB_NAME} g3d4b5e8bb8464cd [2001:db8::7]:51341 172.100.100.185:443 5 - '
            f'98 0 28 - - - - - caf%C3%A9.example.com - - -')
    doc = parse_line(line)
    assert doc["source"] == {"ip": "2001:db8::7", "port": 51341, "bytes": 98}
    assert doc["destination"] == {"bytes": 0, "domain": "café.example.com"}
    assert doc["aws"]["elb"]["incoming_tls_alert"] == "28"
    assert "tls_handshake_time" not in doc["aws"]["elb"] and "tls" not in doc
    assert "start" not in doc["event"]


# --- the tokenizer and lines that do not parse -------------------------------------------------------

@pytest.mark.parametrize("line, fields", [
    ('a "b c" d', ["a", "b c", "d"]),
    ('a "" b', ["a", "", "b"]),
    ('a "say \\"hi\\" there" b', ["a", 'say "hi" there', "b"]),
    ('a "back\\\\slash" b', ["a", "back\\slash", "b"]),
    ('a "h2","http/1.1" b', ["a", '"h2","http/1.1"', "b"]),
    ('a "- - - " "-"', ["a", "- - - ", "-"]),
    ("a  b", ["a", "b"]),
])
def test_split_fields(line, fields):
    assert split_fields(line) == fields


@pytest.mark.parametrize("line, reason", [
    ("", "empty"),
    (f"{CLASSIC_TS} my-loadbalancer 192.168.131.39:2817", "3 fields, a classic ELB (HTTP/HTTPS listeners) line has at least 15"),
    ('2015-05-13 23:39:43 lb 1.2.3.4:1 - 0 0 0 200 200 0 0 "GET / HTTP/1.1" "-" - -', "timestamp is not an ISO 8601"),
    (f'{CLASSIC_TS} lb 1.2.3.4 - 0 0 0 200 200 0 0 "GET / HTTP/1.1" "-" - -', "client:port is not ip:port"),
    (f'{CLASSIC_TS} lb 1.2.3.4:70000 - 0 0 0 200 200 0 0 "GET / HTTP/1.1" "-" - -', "port 70000, above 65535"),
    (f'{CLASSIC_TS} lb 1.2.3.4:1 - 0 abc 0 200 200 0 0 "GET / HTTP/1.1" "-" - -', "backend_processing_time is not a number"),
    (f'{CLASSIC_TS} lb 1.2.3.4:1 - 0 0 0 2x0 200 0 0 "GET / HTTP/1.1" "-" - -', "elb_status_code is not a whole number"),
    (f'{CLASSIC_TS} lb 1.2.3.4:1 - inf 0 0 200 200 0 0 "GET / HTTP/1.1" "-" - -',
     "request_processing_time is negative, infinite or not a number"),
    # a month out of 1..12: an unparsed line for every type (ALB's duration refused it first)
    ('2015-13-13T23:39:43.945958Z lb 1.2.3.4:1 - 0 0 0 200 200 0 0 "GET / HTTP/1.1" "-" - -', "timestamp is not a valid date"),
    ('2015-13-13T23:39:43.945958Z lb 1.2.3.4:1 - 0 0 0 - - 0 0 "- - - " "-" - -', "timestamp is not a valid date"),
    ('tls 2.0 2020-13-01T08:51:42 net/lb/1 g3 72.21.218.154:51341 172.100.100.185:443 5 2 98 246 - - - - tlsv12 - - '
     '- - - 2020-04-01T08:51:20', "time is not a valid date"),
    (f'https 2018-00-02T22:23:00.186641Z {ALB_NAME} 192.168.131.39:2817 - -1 -1 -1 400 - 0 0 "- - -" "-" - - - "-" "-" '
     f'"-" - {ALB_TIME} "-" "-" "-"', "time is not a valid date"),
    ("GET /index.html HTTP/1.1", "3 fields, a ALB line has at least 25"),
    (f'https {ALB_TIME} {ALB_NAME} 192.168.131.39:2817 - -1 -1 -1 400 - 0 0 "- - -" "-" - - - "-" "-" "-" - '
     'yesterday "-" "-" "-"', "request_creation_time is not an ISO 8601 time"),
])
def test_lines_that_do_not_parse_say_which_field(line, reason):
    with pytest.raises(LineFormatError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_line(line)


def test_control_line_is_recognised():
    assert is_control_line(f"Enable AccessLog for ELB: {ALB_NAME} at 2018-07-02T22:23:00.186641Z")
    assert not is_control_line(f"http {ALB_TIME} {ALB_NAME}")


@pytest.mark.parametrize("line", [
    'a "x \\"y\\" z" b\\"c "d\\\\" e',
    'a\tb "c\td" e',
    'a "q \\\\\\" r" "-" f',
    'x "un \\"closed',
])
def test_the_fast_split_agrees_with_the_pattern(line):
    from logfwd.codecs.elbtokens import _split_slowly
    assert split_fields(line) == _split_slowly(line)


@pytest.mark.parametrize("request_line, expected", [
    ("GET https://[2001:db8::1]:8443/a?b=c HTTP/1.1",
     {"original": "https://[2001:db8::1]:8443/a?b=c", "scheme": "https", "domain": "2001:db8::1", "port": 8443,
      "path": "/a", "query": "b=c"}),
    ("POST https://[2001:db8::1]/ HTTP/2.0",
     {"original": "https://[2001:db8::1]/", "scheme": "https", "domain": "2001:db8::1", "path": "/"}),
    ("PUT http://example.com HTTP/1.0", {"original": "http://example.com", "scheme": "http", "domain": "example.com",
                                         "path": ""}),
    ("OPTIONS * HTTP/1.1", {"original": "*"}),
])
def test_request_urls(request_line, expected):
    line = alb_line("grpcs", "10.0.0.9:1", "10.0.0.1:80", "0.000 0.001 0.000", "200 200", "1 2", request_line, "-",
                    "- -", f'{TG} "-" "-" "-" 1 {ALB_START} "forward" "-" "-"')
    doc = parse_line(line)
    assert doc["url"] == expected and doc["aws"]["elb"]["type"] == "grpcs"
    assert doc["http"]["request"]["method"] == request_line.split()[0]



def _variants(line: str) -> list[str]:
    """``line`` with each word in turn replaced by values that take other paths."""
    words = line.split(" ")
    values = ("-", "-1", '""', '"-"', "x", "0", "1.5", "[::1]:80", "1.2.3.4:99999", "2026-01-01T00:00:00Z")
    return [" ".join(words[:i] + [value] + words[i + 1:]) for i in range(len(words)) for value in values]


def test_the_alb_function_builds_the_document_the_alb_table_builds(monkeypatch):
    """alb_document is the fast way to the ALB table's document: the same bytes (key order included) for
    generated lines, AWS-like ones and thousands of variants; where it refuses a line, so does the table."""
    import orjson

    from logfwd.codecs import elbalb, elblog
    from servers_s3 import alb_line as generated_line

    lines = [generated_line(i) for i in range(0, 5000, 7)] + [
        alb_line("h2", "[2001:db8::c1]:48160", "[2001:db8::1]:9000", "0.000 0.002 0.000", "200 200", "5 257",
                 "GET https://10.0.2.105:773/p/a%20b?x=1&y=2 HTTP/2.0", 'Mozilla/5.0 \\"quoted\\" \\\\ x',
                 "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.3",
                 f'{TG} "Root=1-58337327-72bd00b0343d75b906739c42" "-" "session-reused" -1 {ALB_START} '
                 '"waf,forward" "-" "-" "[2001:db8::1]:9000 [2001:db8::2]:9000" "200 503" "Ambiguous" '
                 '"UndefinedContentLengthSemantics" TID_abc'),
        alb_line("http", "192.168.131.39:2817", "-", "-1 -1 -1", "502 -", "34 366", "- - - ", "-", "- -",
                 f'{TG} "-" "-" "-" 0 {ALB_START} "forward" "-" "LambdaInvalidResponse" "-" "-" "-" "-" -')]
    fast, by_table = [], []
    for line in lines + [variant for line in lines[-2:] + lines[:5] for variant in _variants(line)]:
        fields = split_fields(line)
        if len(fields) != elbalb.ALB_FIELDS or fields[0][:1].isdigit() or fields[0] == "tls":
            continue
        try:
            fast.append(orjson.dumps(elbalb.alb_document(fields)))
        except LineFormatError:
            fast.append(None)
        with monkeypatch.context() as patch:  # parse_line without the ALB function: the table
            patch.setattr(elblog, "ALB_FIELDS", -1)
            try:
                by_table.append(orjson.dumps(parse_line(line)))
            except LineFormatError:
                by_table.append(None)
    assert fast == by_table
    assert len(fast) > 1000 and sum(doc is None for doc in fast) > 100
