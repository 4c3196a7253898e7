"""An ALB line's document built in one function: ALB logs are most of the volume, and a function call
per field (the ``ALB`` table) cost more than the work (callgrind: 245k -> 203k instructions per line).

It makes the very document the table makes, key for key in the same order (``parse_line`` is the
reference: tests/test_elblog.py compares the two on AWS-like lines and thousands of variants). It
takes only lines of exactly the 30 documented fields and raises ``LineFormatError`` on any bad value;
``parse_line`` then goes through the table, which names the wrong field.
"""

from .elbfields import put_request, put_tls_cipher, put_tls_protocol, rule_priority
from .elbtokens import address, epoch_ns, integer, optional_integer, seconds, timestamp

__all__ = ["alb_document", "ALB_FIELDS"]

ALB_FIELDS = 30


def alb_document(f) -> dict:
    """The document of the 30 ``fields`` of an ALB line; ``LineFormatError`` if a value is wrong."""
    elb = {"protocol": "http"}
    event = {"kind": "event", "module": "aws", "dataset": "aws.elb", "category": "web"}
    request: dict = {}
    http = {"request": request}
    doc = {"event": event, "cloud": {"provider": "aws"}, "aws": {"elb": elb}, "http": http}
    if f[0] != "-" and f[0]:
        elb["type"] = f[0]
    doc["@timestamp"] = end = timestamp("time", f[1])
    if f[2] != "-" and f[2]:
        elb["name"] = f[2]
    ip, port = address("client:port", f[3])
    doc["source"] = {"ip": ip, "port": port}
    if f[4] != "-":
        ip, port = _targets.get(f[4]) or address("target:port", f[4])
        elb["backend"] = {"ip": ip, "port": port}
        if len(_targets) < 1024:  # targets repeat line after line
            _targets[f[4]] = ip, port
    for name, value in zip(_SECONDS, f[5:8]):
        number = seconds(name, value)
        if number is not None:
            elb[name] = {"sec": number}
    status = integer("elb_status_code", f[8])
    response = http["response"] = {"status_code": status}
    event["outcome"] = "success" if status < 400 else "failure"
    backend_status = optional_integer("backend_status_code", f[9])
    if backend_status is not None:
        backend = elb.get("backend")
        if backend is None:
            backend = elb["backend"] = {}
        backend["http"] = {"response": {"status_code": backend_status}}
    request["body"] = {"bytes": integer("received_bytes", f[10])}
    response["body"] = {"bytes": integer("sent_bytes", f[11])}
    put_request(doc, f[12])
    if f[13] != "-" and f[13]:
        doc["user_agent"] = {"original": f[13]}
    put_tls_cipher(doc, f[14])
    put_tls_protocol(doc, f[15])
    if f[16] != "-" and f[16]:
        elb["target_group"] = {"arn": f[16]}
    if f[17] != "-" and f[17]:
        elb["trace_id"] = f[17]
        doc["trace"] = {"id": f[17]}
    if f[18] != "-" and f[18]:
        doc["destination"] = {"domain": f[18]}
    if f[19] != "-" and f[19]:
        elb["chosen_cert"] = {"arn": f[19]}
    priority = rule_priority("matched_rule_priority", f[20])
    if priority is not None:
        elb["matched_rule_priority"] = priority
    event["start"] = start = timestamp("request_creation_time", f[21])
    if f[22] != "-" and f[22]:
        elb["action_executed"] = f[22].split(",")
    if f[23] != "-" and f[23]:
        elb["redirect_url"] = f[23]
    if f[24] != "-" and f[24]:
        elb["error"] = {"reason": f[24]}
    if f[25] != "-" and f[25]:
        elb["target_port"] = f[25].split(" ")
    if f[26] != "-" and f[26]:
        elb["target_status_code"] = f[26].split(" ")
    for name, value in zip(_LAST, f[27:30]):
        if value != "-" and value:
            elb[name] = value
    if not request:
        del http["request"]
    event["end"] = end
    duration = epoch_ns(end) - epoch_ns(start)
    if duration >= 0:
        event["duration"] = duration
    return doc


_SECONDS = ("request_processing_time", "backend_processing_time", "response_processing_time")
_LAST = ("classification", "classification_reason", "conn_trace_id")
_targets: dict[str, tuple[str, int]] = {}  # "ip:port" -> (ip, port)
