"""The official Python SDKs (openai, anthropic) pointed straight at the mock upstream: the strongest check that the
mock speaks the providers' exact wire formats (text, usage, tool calls, typed errors, retry behaviour)."""

import json
import time

import anthropic
import openai
import pytest

from conftest import ANTHROPIC_KEY, OPENAI_KEY


@pytest.fixture()
def oai(upstream_url, mock):
    return openai.OpenAI(api_key=OPENAI_KEY, base_url=f"{upstream_url}/v1", max_retries=0)


@pytest.fixture()
def ant(upstream_url, mock):
    return anthropic.Anthropic(api_key=ANTHROPIC_KEY, base_url=upstream_url, max_retries=0)


def user(text):
    return [{"role": "user", "content": text}]


def test_openai_chat_non_streaming(oai):
    r = oai.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=user("Hello python"), max_tokens=5)
    c = r.parse()
    assert c.choices[0].message.content == "Mock answer to: Hello python"
    assert c.choices[0].finish_reason == "length"
    assert c.usage.completion_tokens == 5
    assert r.headers["x-request-id"].startswith("req_")
    c = oai.chat.completions.create(model="gpt-4o-mini", messages=user("Hello python"))
    assert c.choices[0].finish_reason == "stop"
    assert c.usage.completion_tokens == 24


def test_openai_chat_streaming_text_and_usage(oai):
    text, usage, finish = "", None, None
    for chunk in oai.chat.completions.create(model="gpt-4o-mini", messages=user("Stream please"), stream=True,
                                             stream_options={"include_usage": True}):
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    assert text.startswith("Mock answer to: Stream please")
    assert finish == "stop"
    assert usage.completion_tokens == 24
    assert usage.total_tokens == usage.prompt_tokens + 24


def test_openai_chat_stream_helper_tool_calls(oai):
    tools = [{"type": "function", "function": {"name": "weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}}}]
    with oai.chat.completions.stream(model="gpt-4o-mini", messages=user("weather?"), tools=tools) as s:
        final = s.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert call.function.name == "weather"
    args = json.loads(call.function.arguments)
    assert isinstance(args["city"], str) and isinstance(args["days"], int)
    assert final.choices[0].finish_reason == "tool_calls"


def test_openai_responses_stream(oai):
    with oai.responses.stream(model="gpt-4o-mini", input="Hello responses") as s:
        deltas = "".join(e.delta for e in s if e.type == "response.output_text.delta")
        final = s.get_final_response()
    assert final.output_text == deltas
    assert final.output_text.startswith("Mock answer to: Hello responses")
    assert final.usage.output_tokens == 24
    r = oai.responses.create(model="gpt-4o-mini", input="Hi", max_output_tokens=3)
    assert r.status == "incomplete"
    assert r.incomplete_details.reason == "max_output_tokens"


def test_openai_embeddings(oai):
    a = oai.embeddings.create(model="text-embedding-3-small", input=["green tea", "green tea leaves", "tax law"])
    v = [d.embedding for d in a.data]
    dot = lambda x, y: sum(p * q for p, q in zip(x, y))  # noqa: E731
    assert abs(dot(v[0], v[0]) - 1) < 1e-5
    assert dot(v[0], v[1]) > dot(v[0], v[2])


def test_openai_typed_errors(oai, mock, upstream_url):
    mock.queue("429")
    with pytest.raises(openai.RateLimitError) as e:
        oai.chat.completions.create(model="gpt-4o-mini", messages=user("x"))
    assert e.value.status_code == 429 and e.value.code == "rate_limit_exceeded"
    bad = openai.OpenAI(api_key="sk-wrong-key", base_url=f"{upstream_url}/v1", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        bad.models.list()
    assert e.value.status_code == 401
    mock.queue("503")
    with pytest.raises(openai.InternalServerError):
        oai.chat.completions.create(model="gpt-4o-mini", messages=user("x"))
    with pytest.raises(openai.APIError):
        for _ in oai.chat.completions.create(model="gpt-4o-mini", messages=user("x mock:error=3"), stream=True):
            pass


def test_openai_retry_honours_retry_after(upstream_url, mock):
    client = openai.OpenAI(api_key=OPENAI_KEY, base_url=f"{upstream_url}/v1", max_retries=2)
    mock.queue("429", retryAfter=1)
    t0 = time.monotonic()
    c = client.chat.completions.create(model="gpt-4o-mini", messages=user("retry"))
    assert time.monotonic() - t0 >= 0.95
    assert c.choices[0].message.content.startswith("Mock answer")
    assert len(mock.requests()) == 2
    mock.reset()
    mock.queue("429", count=3, retryAfterMs=5)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o-mini", messages=user("retry"))
    assert len(mock.requests()) == 3


def test_anthropic_stream_and_final_message(ant):
    with ant.messages.stream(model="claude-haiku-4-5", max_tokens=100, messages=user("Hello Claude")) as s:
        text = "".join(s.text_stream)
        msg = s.get_final_message()
    assert text.startswith("Mock answer to: Hello Claude")
    assert msg.content[0].text == text
    assert msg.stop_reason == "end_turn"
    assert msg.usage.output_tokens == 24
    m = ant.messages.create(model="claude-haiku-4-5", max_tokens=3, messages=user("Short"))
    assert m.stop_reason == "max_tokens"


def test_anthropic_tool_use_and_thinking(ant):
    tools = [{"name": "extract", "input_schema": {"type": "object", "properties": {"name": {"type": "string"}}}}]
    with ant.messages.stream(model="claude-haiku-4-5", max_tokens=200, tools=tools,
                             tool_choice={"type": "tool", "name": "extract"}, messages=user("Bob")) as s:
        msg = s.get_final_message()
    assert msg.stop_reason == "tool_use"
    assert msg.content[0].type == "tool_use" and isinstance(msg.content[0].input["name"], str)
    with ant.messages.stream(model="claude-haiku-4-5", max_tokens=2000, messages=user("think"),
                             thinking={"type": "enabled", "budget_tokens": 1024}) as s:
        msg = s.get_final_message()
    assert msg.content[0].type == "thinking" and msg.content[0].signature


def test_anthropic_typed_errors_and_retry(ant, mock, upstream_url):
    mock.queue("529")
    with pytest.raises(anthropic.InternalServerError) as e:
        ant.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=user("x"))
    assert e.value.status_code == 529
    bad = anthropic.Anthropic(api_key="sk-ant-wrong", base_url=upstream_url, max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        bad.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=user("x"))
    with pytest.raises(anthropic.APIStatusError) as e:
        with ant.messages.stream(model="claude-haiku-4-5", max_tokens=100, messages=user("x mock:error=5")) as s:
            s.get_final_message()
    assert "overloaded" in str(e.value).lower()
    mock.reset()
    client = anthropic.Anthropic(api_key=ANTHROPIC_KEY, base_url=upstream_url, max_retries=2)
    mock.queue("429", retryAfterMs=20)
    m = client.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=user("after"))
    assert m.content[0].text.startswith("Mock answer to: after")
    assert [r["status"] for r in mock.requests()] == [429, 200]


def test_openai_responses_stream_error_event(oai):
    # The Python SDK ignores the `error` event and fails for want of `response.completed`.
    with pytest.raises(RuntimeError, match="response.completed"):
        with oai.responses.stream(model="gpt-4o-mini", input="x mock:error=4") as s:
            for _ in s:
                pass
            s.get_final_response()
