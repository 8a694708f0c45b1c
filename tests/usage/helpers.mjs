// Shared by the usage-store suites: the admin API client, waiting for records written in waitUntil, and what a
// client saw of its usage (the widget's `usage` event, or the SDK format's own usage fields).
import assert from 'node:assert/strict';
import { parseSse } from '../support/edge.mjs';

export const ADMIN_TOKEN = 'admin-test-token-0000';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** GET an admin route; `token` null sends no Authorization. */
export function admin(edge, path, { token = ADMIN_TOKEN, headers = {} } = {}) {
  const h = { ...headers };
  if (token !== null) h.authorization = `Bearer ${token}`;
  return fetch(`${edge.url}${path}`, { headers: h });
}

/** Every record, paging through `/api/admin/requests` with `limit` per page. */
export async function allRecords(edge, query = '', limit = 500) {
  const out = [];
  let before = null;
  for (;;) {
    const q = new URLSearchParams(query);
    q.set('limit', String(limit));
    if (before) q.set('before', before);
    const res = await admin(edge, `/api/admin/requests?${q}`);
    assert.equal(res.status, 200, await res.clone().text());
    const page = await res.json();
    out.push(...page.requests);
    if (!page.next) return out;
    before = page.next;
  }
}

/** Waits until the store holds `n` records (they are written after the responses, in waitUntil). */
export async function waitForRecords(edge, n, timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await allRecords(edge);
    if (all.length >= n) return all;
    if (Date.now() > deadline) throw new Error(`${all.length} of ${n} records after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Usage a widget client saw: the `usage` event's data (zeros when there was none: a refused request). */
export function widgetUsage(events) {
  const u = events.find((e) => e.event === 'usage')?.data ?? {};
  return {
    input_tokens: u.input_tokens ?? 0,
    output_tokens: u.output_tokens ?? 0,
    cache_read_tokens: u.cache_read_input_tokens ?? 0,
    cache_write_tokens: u.cache_creation_input_tokens ?? 0,
    cost_usd: u.cost_usd ?? 0,
  };
}

/** Usage an SDK client saw in an OpenAI Chat stream (its `include_usage` chunk). */
export function chatStreamUsage(text) {
  const u = parseSse(text).find((e) => e.data?.usage)?.data.usage;
  const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
  return { input_tokens: u.prompt_tokens - cached, output_tokens: u.completion_tokens, cache_read_tokens: cached };
}

/** Usage an SDK client saw in an Anthropic Messages stream (`message_start`, then `message_delta`). */
export function messagesStreamUsage(text) {
  const events = parseSse(text);
  const start = events.find((e) => e.event === 'message_start').data.message.usage;
  const delta = events.findLast((e) => e.event === 'message_delta').data.usage;
  return {
    input_tokens: delta.input_tokens ?? start.input_tokens,
    output_tokens: delta.output_tokens,
    cache_read_tokens: delta.cache_read_input_tokens ?? start.cache_read_input_tokens ?? 0,
    cache_write_tokens: delta.cache_creation_input_tokens ?? start.cache_creation_input_tokens ?? 0,
  };
}

/** Usage an SDK client saw in a non-streamed Responses answer. */
export function responsesUsage(body) {
  const cached = body.usage.input_tokens_details?.cached_tokens ?? 0;
  return {
    input_tokens: body.usage.input_tokens - cached,
    output_tokens: body.usage.output_tokens,
    cache_read_tokens: cached,
  };
}

export const METRICS = ['input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens'];

/** Sums `field` over `items`. */
export const sum = (items, field) => items.reduce((a, x) => a + (x[field] ?? 0), 0);
