"""The official Python SDKs (openai, anthropic) against the edge's provider-compatible endpoints, with the mock
upstream behind the edge. The client only ever holds the site key; the edge adds the real provider key."""

import json
import time

import anthropic
import httpx2 as httpx
import openai
import pytest

PROVIDER_KEYS = ("sk-test-openai-0000", "sk-ant-test-0000", "sk-test-compat-0000")


def user(text):
    return [{"role": "user", "content": text}]


def assert_no_provider_key(*texts):
    for t in texts:
        for k in PROVIDER_KEYS:
            assert k not in t, f"provider key {k} leaked to the client"


@pytest.fixture()
def oai(edge, edge_mock):
    return openai.OpenAI(api_key=edge["key"], base_url=f"{edge['url']}/v1", max_retries=0)


@pytest.fixture()
def ant(edge, edge_mock):
    return anthropic.Anthropic(api_key=edge["key"], base_url=edge["url"], max_retries=0)


def upstream_saw_real_key(edge_mock, provider):
    log = edge_mock.requests()
    assert log, "the request never reached the mock upstream"
    h = log[-1]["headers"]
    if provider == "anthropic":
        got = h.get("x-api-key") or h.get("authorization", "").removeprefix("Bearer ")
        assert got == "sk-ant-test-0000"
    else:
        assert h.get("authorization") == "Bearer sk-test-openai-0000"
    return log[-1]


def test_chat_completions_non_streaming(oai, edge_mock):
    raw = oai.chat.completions.with_raw_response.create(model="fast", messages=user("Hello edge"))
    c = raw.parse()
    assert c.choices[0].message.content.startswith("Mock answer to: Hello edge")
    assert c.choices[0].finish_reason == "stop"
    assert c.usage.completion_tokens == 24 and c.usage.prompt_tokens > 0
    assert_no_provider_key(raw.http_response.text, json.dumps(dict(raw.headers)))
    entry = upstream_saw_real_key(edge_mock, "openai")
    assert entry["body"]["model"] == "gpt-4o-mini", "the edge rewrites the alias to the provider model"


def test_chat_completions_streaming_with_usage(oai, edge_mock):
    text, usage, finish = "", None, None
    for chunk in oai.chat.completions.create(model="fast", messages=user("Stream through edge"), stream=True,
                                             stream_options={"include_usage": True}):
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    assert text.startswith("Mock answer to: Stream through edge")
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens == 24
    upstream_saw_real_key(edge_mock, "openai")


def test_chat_completions_stream_helper_tool_call(oai):
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}}}}]
    with oai.chat.completions.stream(model="fast", messages=user("look it up"), tools=tools) as s:
        final = s.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert call.function.name == "lookup"
    assert isinstance(json.loads(call.function.arguments)["q"], str)


def test_responses_streaming_and_not(oai, edge_mock):
    with oai.responses.stream(model="resp", input="Hello responses edge") as s:
        deltas = "".join(e.delta for e in s if e.type == "response.output_text.delta")
        final = s.get_final_response()
    assert final.output_text == deltas
    assert final.output_text.startswith("Mock answer to: Hello responses edge")
    assert final.usage.output_tokens == 24
    r = oai.responses.create(model="resp", input="Plain")
    assert r.output_text.startswith("Mock answer to: Plain")
    upstream_saw_real_key(edge_mock, "openai")


def test_messages_stream_and_not(ant, edge_mock):
    with ant.messages.stream(model="claude", max_tokens=200, messages=user("Hello Claude edge")) as s:
        text = "".join(s.text_stream)
        msg = s.get_final_message()
    assert text.startswith("Mock answer to: Hello Claude edge")
    assert msg.stop_reason == "end_turn"
    assert msg.usage.output_tokens == 24
    entry = upstream_saw_real_key(edge_mock, "anthropic")
    assert entry["body"]["model"] == "claude-haiku-4-5"
    raw = ant.messages.with_raw_response.create(model="claude", max_tokens=5, messages=user("Short"))
    m = raw.parse()
    assert m.stop_reason == "max_tokens"
    assert m.usage.output_tokens == 5
    assert_no_provider_key(raw.http_response.text, json.dumps(dict(raw.headers)))


def test_wrong_site_key_is_authentication_error(edge):
    bad = openai.OpenAI(api_key="pk_wrong_key", base_url=f"{edge['url']}/v1", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        bad.chat.completions.create(model="fast", messages=user("x"))
    assert e.value.status_code == 401
    bad_a = anthropic.Anthropic(api_key="pk_wrong_key", base_url=edge["url"], max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        bad_a.messages.create(model="claude", max_tokens=5, messages=user("x"))


def test_upstream_errors_arrive_as_typed_exceptions(oai, ant, edge_mock):
    # More failures than the edge's own attempts (max_attempts 2 in tests/sdk/edge-config.mjs): the provider's
    # status comes through and each SDK raises its typed exception for it.
    edge_mock.queue("429", count=5, retryAfter=0)
    with pytest.raises(openai.RateLimitError) as e:
        oai.chat.completions.create(model="fast", messages=user("x"))
    assert e.value.status_code == 429
    assert_no_provider_key(e.value.response.text)
    assert len(edge_mock.requests()) == 2, "the edge retries a 429 up to max_attempts"
    edge_mock.reset()
    edge_mock.queue("529", count=5)
    with pytest.raises(anthropic.InternalServerError) as e:
        ant.messages.create(model="claude", max_tokens=20, messages=user("x"))
    assert e.value.status_code == 529
    assert_no_provider_key(e.value.response.text)
    edge_mock.reset()
    edge_mock.queue("500", count=5)
    with pytest.raises(openai.InternalServerError):
        oai.responses.create(model="resp", input="x")


def test_provider_errors_never_echo_the_provider_key(edge, edge_mock):
    # Even when the provider's error message quotes the key (and for a provider-side 401), the client must not
    # see it.
    client = openai.OpenAI(api_key=edge["key"], base_url=f"{edge['url']}/v1", max_retries=0)
    for status in ("401", "500"):
        edge_mock.reset()
        edge_mock.queue(status, count=5, message="upstream rejected key sk-test-openai-0000 for this request")
        with pytest.raises(openai.APIStatusError) as e:
            client.chat.completions.create(model="fast", messages=user("x"))
        assert_no_provider_key(e.value.response.text, json.dumps(dict(e.value.response.headers)))


def test_mid_stream_error_raises(oai, ant):
    with pytest.raises(openai.APIError):
        for _ in oai.chat.completions.create(model="fast", messages=user("x mock:error=3"), stream=True):
            pass
    with pytest.raises(anthropic.APIError):
        with ant.messages.stream(model="claude", max_tokens=100, messages=user("x mock:error=5")) as s:
            s.get_final_message()


def test_client_abort_reaches_upstream(edge, edge_mock):
    # Close the stream after the first events of a slow answer; the edge must abort its upstream request (it
    # notices at its next write, so the upstream keeps sending events at a 50 ms cadence here).
    with httpx.Client(timeout=10) as h:
        with h.stream("POST", f"{edge['url']}/v1/chat/completions",
                      headers={"authorization": f"Bearer {edge['key']}"},
                      json={"model": "fast", "stream": True,
                            "messages": user("abort me mock:slow=50 mock:words=200")}) as r:
            assert r.status_code == 200
            next(r.iter_bytes())
    log = []
    for _ in range(60):  # up to 3 s
        log = edge_mock.requests()
        if log and log[-1]["aborted"]:
            break
        time.sleep(0.05)
    assert log and log[-1]["aborted"], f"upstream did not see the abort: {log[-1] if log else None}"
    assert log[-1]["eventsSent"] < 100, "the upstream streamed on long after the client left"


@pytest.mark.parametrize("path,body", [
    ("/v1/chat/completions", {"model": "fast", "stream": True, "messages": [{"role": "user", "content": "raw"}]}),
    ("/v1/responses", {"model": "resp", "stream": True, "input": "raw"}),
    ("/v1/messages", {"model": "claude", "stream": True, "max_tokens": 50, "messages": [{"role": "user", "content": "raw"}]}),
])
def test_streamed_bytes_and_headers_carry_no_provider_key(edge, edge_mock, path, body):
    headers = {"authorization": f"Bearer {edge['key']}", "anthropic-version": "2023-06-01"}
    with httpx.Client(timeout=10) as h:
        r = h.post(f"{edge['url']}{path}", headers=headers, json=body)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    deltas = [json.loads(line[5:]) for line in r.text.splitlines()
              if line.startswith("data:") and line.strip() != "data: [DONE]"]
    assert len(deltas) > 5, "the answer arrives as many events"
    assert "Mock" in r.text
    assert_no_provider_key(r.text, json.dumps(dict(r.headers)))
    upstream_saw_real_key(edge_mock, "anthropic" if path == "/v1/messages" else "openai")
