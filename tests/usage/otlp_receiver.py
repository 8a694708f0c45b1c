"""A minimal OTLP/HTTP JSON trace receiver for the usage tests: decodes every POST /v1/traces body with the official
OTLP definitions (PyPI opentelemetry-proto, `google.protobuf.json_format.ParseDict` into `ExportTraceServiceRequest`,
which rejects unknown fields and malformed values; ids are checked as OTLP/JSON's hex first) and keeps what it
decoded.

    python otlp_receiver.py            prints "listening <port>" on 127.0.0.1, then serves
    GET /received                      [{"headers": {...}, "request": <decoded request as a dict>}, ...]
    POST /v1/traces                    200 {} when the body decodes, 400 with the parse error otherwise
"""

import base64
import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

received = []
errors = []

ID_LENGTHS = {"traceId": 32, "spanId": 16, "parentSpanId": 16}


def hex_ids_to_base64(node):
    """OTLP/JSON encodes trace and span ids as hex, where the proto3 JSON mapping (json_format) expects base64 for
    bytes: check each id is hex of the right length, then hand json_format the base64 it reads."""
    if isinstance(node, list):
        for item in node:
            hex_ids_to_base64(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in ID_LENGTHS and isinstance(value, str) and value != "":
                if not re.fullmatch(f"[0-9a-f]{{{ID_LENGTHS[key]}}}", value):
                    raise json_format.ParseError(f"{key} {value!r} is not {ID_LENGTHS[key]} lowercase hex digits")
                node[key] = base64.b64encode(bytes.fromhex(value)).decode()
            else:
                hex_ids_to_base64(value)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/received":
            return self.answer(200, {"received": received, "errors": errors})
        self.answer(404, {})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path != "/v1/traces":
            return self.answer(404, {})
        try:
            doc = json.loads(body)
            hex_ids_to_base64(doc)
            request = json_format.ParseDict(doc, ExportTraceServiceRequest())
        except (json_format.ParseError, ValueError) as e:
            errors.append(str(e))
            return self.answer(400, {"error": str(e)})
        received.append(
            {
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "content_type": self.headers.get("content-type"),
                # Decoded values back as JSON (ids as the proto's bytes in base64, ints as strings).
                "request": json_format.MessageToDict(request, preserving_proto_field_name=True),
                "span_count": sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans),
                # Attributes per span, typed as decoded: {name: {key: value}}.
                "spans": [
                    {
                        "name": span.name,
                        "kind": span.kind,
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(),
                        "start": span.start_time_unix_nano,
                        "end": span.end_time_unix_nano,
                        "status_code": span.status.code,
                        "attributes": {a.key: attr_value(a.value) for a in span.attributes},
                    }
                    for rs in request.resource_spans
                    for ss in rs.scope_spans
                    for span in ss.spans
                ],
                "resource": {a.key: attr_value(a.value) for rs in request.resource_spans for a in rs.resource.attributes},
            }
        )
        self.answer(200, {})


def attr_value(v):
    kind = v.WhichOneof("value")
    return {"kind": kind, "value": getattr(v, kind)}


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()
