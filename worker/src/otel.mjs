// OpenTelemetry's JavaScript side (imported by the edge's wasm through wasm-bindgen: worker/src/rt/usage.rs): one
// span per request (and per summarizer call) in OTLP/HTTP JSON with the GenAI semantic conventions
// (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/), built from the request's usage record;
// batched per isolate and posted from `waitUntil`. Where spans go (`OTEL_EXPORTER_OTLP_*`) is read and checked by
// worker/src/otel.rs. Here in JavaScript to keep the edge's wasm within its size budget.
//
// Batching: the first span of a batch makes its task wait up to MAX_WAIT_MS for more (or until MAX_BATCH have
// come, when the task adding the last one sends them at once). A collector that is down, slow (over TIMEOUT_MS)
// or answers non-2xx costs the batch: dropped and counted (an `otel_dropped` log line), never retried, never a
// request's failure.

/** Most spans in one export. */
export const MAX_BATCH = 100;
/** Longest a span waits for its batch to fill, ms. */
export const MAX_WAIT_MS = 1000;
/** Most spans queued; beyond it new spans are dropped (counted). */
export const MAX_QUEUE = 2000;
/** Longest an export may take, ms. */
export const TIMEOUT_MS = 5000;

const batch = { spans: [], timer: false, dropped: 0 };

/** 16 hex digits of FNV-1a (64-bit) over `text`: cheap, stable ids derived from the request id. */
function fnv64(text) {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) h = ((h ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

const str = (key, v) => ({ key, value: { stringValue: v } });
const int = (key, n) => ({ key, value: { intValue: String(n) } });

/** The GenAI provider name (`gen_ai.provider.name`) of an edge provider kind. */
export function providerName(kind) {
  return kind === 'openai-chat' || kind === 'openai-responses' ? 'openai' : kind;
}

/**
 * The OTLP JSON span of a usage record. Its ids derive from the request id (trace id: the id's FNV-1a hash and the
 * id; the request's span id: the id), so a summarizer call's span and its request's share a trace (the summary span
 * is the request span's child).
 */
export function span(r) {
  const traceId = `${fnv64(r.id)}${r.id.padStart(16, '0').slice(-16)}`;
  const requestSpan = r.id.padStart(16, '0').slice(-16);
  const spanId = r.kind === 'chat' ? requestSpan : fnv64(`${r.id}.${r.kind}`);
  const requested = r.alias ?? r.model ?? '';
  const attributes = [
    str('gen_ai.operation.name', 'chat'),
    str('gen_ai.request.model', requested),
    int('gen_ai.usage.input_tokens', r.input_tokens + r.cache_read_tokens + r.cache_write_tokens),
    int('gen_ai.usage.output_tokens', r.output_tokens),
    int('gen_ai.usage.cache_read.input_tokens', r.cache_read_tokens),
    int('gen_ai.usage.cache_creation.input_tokens', r.cache_write_tokens),
    int('http.response.status_code', r.status),
    str('edgechat.request_id', r.id),
    str('edgechat.route', r.route),
    str('edgechat.kind', r.kind),
    str('edgechat.outcome', r.outcome),
    int('edgechat.attempts', r.attempts),
    { key: 'edgechat.fallback', value: { boolValue: r.fallback } },
    { key: 'edgechat.usage_estimated', value: { boolValue: r.estimated } },
  ];
  const optional = [
    ['gen_ai.provider.name', r.provider && providerName(r.provider)],
    ['gen_ai.response.model', r.model],
    ['error.type', r.error_type],
    ['edgechat.cache', r.cache],
    ['edgechat.task', r.task],
    ['edgechat.site_key', r.site_key],
  ];
  for (const [k, v] of optional) if (v) attributes.push(str(k, v));
  if (r.cost_usd !== null && r.cost_usd !== undefined)
    attributes.push({ key: 'edgechat.cost_usd', value: { doubleValue: r.cost_usd } });
  if (r.ttfb_ms !== null && r.ttfb_ms !== undefined) attributes.push(int('edgechat.ttfb_ms', r.ttfb_ms));
  const failed = r.outcome === 'error' || r.status >= 500;
  const start = BigInt(r.time) * 1_000_000n;
  const s = {
    traceId,
    spanId,
    name: `chat ${requested}`.trim(),
    kind: 3, // SPAN_KIND_CLIENT: the edge calls the model (GenAI inference spans are client spans)
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(start + BigInt(r.duration_ms) * 1_000_000n),
    attributes,
    status: failed ? { code: 2, ...(r.error_type ? { message: r.error_type } : {}) } : {},
  };
  if (r.kind !== 'chat') s.parentSpanId = requestSpan;
  return s;
}

/** An `ExportTraceServiceRequest` (OTLP/HTTP JSON body) of `spans`. */
export function exportBody(spans, version) {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', 'edgechat-edge')] },
        scopeSpans: [{ scope: { name: 'edgechat', version }, spans }],
      },
    ],
  });
}

/**
 * Queues the span of a record (its JSON); sends the batch when full, or after MAX_WAIT_MS (the first span's task).
 * `exporterJson`: `{"url", "headers": [[k, v], …], "version"}` (worker/src/otel.rs). Never rejects.
 */
export async function otelPush(recordJson, exporterJson) {
  if (batch.spans.length >= MAX_QUEUE) {
    batch.dropped += 1;
    return;
  }
  batch.spans.push(span(JSON.parse(recordJson)));
  let spans;
  if (batch.spans.length >= MAX_BATCH) {
    spans = batch.spans.splice(0, MAX_BATCH);
  } else if (!batch.timer) {
    batch.timer = true;
    await new Promise((r) => setTimeout(r, MAX_WAIT_MS));
    batch.timer = false;
    spans = batch.spans.splice(0, MAX_BATCH);
  } else {
    return;
  }
  if (!spans.length) return;
  const exporter = JSON.parse(exporterJson);
  let error = null;
  try {
    const res = await fetch(exporter.url, {
      method: 'POST',
      headers: [['content-type', 'application/json'], ...exporter.headers],
      body: exportBody(spans, exporter.version),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (!res.ok) error = `the collector answered ${res.status}`;
  } catch (e) {
    error = String(e?.message ?? e).slice(0, 200);
  }
  if (error !== null) {
    batch.dropped += spans.length;
    console.log(JSON.stringify({ otel_dropped: spans.length, otel_dropped_total: batch.dropped, otel_error: error }));
  }
}
