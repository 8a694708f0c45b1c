//! OpenTelemetry: one span per request (and per summarizer call) in OTLP/HTTP JSON, with the GenAI semantic
//! conventions (<https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/>), built from the request's
//! usage [`Record`]. Pure: the runtime batches the spans and posts them (`rt/otel.rs`).
//!
//! Configured by the standard exporter variables (<https://opentelemetry.io/docs/specs/otel/protocol/exporter/>):
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (the signal path `/v1/traces` is appended) or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
//! (used as is), and `OTEL_EXPORTER_OTLP_HEADERS` (`k=v,k2=v2`, values percent-decoded).

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::config::Env;
use crate::usage::query::percent_decode;
use crate::usage::Record;

/// Where spans go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exporter {
    /// The traces URL (`…/v1/traces`).
    pub url: String,
    /// Extra request headers (authentication for a hosted collector).
    pub headers: Vec<(String, String)>,
}

impl Exporter {
    /// From the environment; `None` without an endpoint. A malformed header list is an error naming the variable.
    pub fn from_env(env: &Env) -> Result<Option<Self>, String> {
        let url = match (env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), env.get("OTEL_EXPORTER_OTLP_ENDPOINT")) {
            (Some(u), _) => u.to_string(),
            (None, Some(base)) => format!("{}/v1/traces", base.trim_end_matches('/')),
            (None, None) => return Ok(None),
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err("OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL".into());
        }
        let mut headers = Vec::new();
        for pair in env.get("OTEL_EXPORTER_OTLP_HEADERS").unwrap_or("").split(',').filter(|p| !p.trim().is_empty()) {
            let parsed = pair.split_once('=').and_then(|(k, v)| {
                let k = percent_decode(k.trim(), false)?;
                let v = percent_decode(v.trim(), false)?;
                let ok = !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                ok.then_some((k.to_ascii_lowercase(), v))
            });
            headers.push(parsed.ok_or("OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs separated by commas")?);
        }
        Ok(Some(Self { url, headers }))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn id_of(parts: &[&str], len: usize) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize()[..len])
}

fn attr(key: &str, value: Value) -> Value {
    json!({ "key": key, "value": value })
}

fn s(v: &str) -> Value {
    json!({ "stringValue": v })
}

fn int(n: u64) -> Value {
    json!({ "intValue": n.to_string() })
}

/// The GenAI provider name (`gen_ai.provider.name`) of an edge provider kind.
pub fn provider_name(kind: &str) -> &str {
    match kind {
        "openai-chat" | "openai-responses" => "openai",
        "anthropic" => "anthropic",
        other => other,
    }
}

/// The span of one record (OTLP JSON `Span`). Its trace id derives from the request id, so a summarizer call's span
/// and its request's share a trace (the summary span is the request span's child).
pub fn span(r: &Record) -> Value {
    let trace_id = id_of(&[&r.id], 16);
    let request_span = id_of(&[&r.id, "chat"], 8);
    let span_id = if r.kind == "chat" { request_span.clone() } else { id_of(&[&r.id, r.kind], 8) };
    let request_model = r.alias.as_deref().or(r.model.as_deref()).unwrap_or("");
    let mut attrs = vec![
        attr("gen_ai.operation.name", s("chat")),
        attr("gen_ai.request.model", s(request_model)),
        attr("gen_ai.usage.input_tokens", int(r.input_tokens + r.cache_read_tokens + r.cache_write_tokens)),
        attr("gen_ai.usage.output_tokens", int(r.output_tokens)),
        attr("gen_ai.usage.cache_read.input_tokens", int(r.cache_read_tokens)),
        attr("gen_ai.usage.cache_creation.input_tokens", int(r.cache_write_tokens)),
        attr("http.response.status_code", int(u64::from(r.status))),
        attr("edgechat.request_id", s(&r.id)),
        attr("edgechat.route", s(&r.route)),
        attr("edgechat.kind", s(r.kind)),
        attr("edgechat.outcome", s(r.outcome)),
        attr("edgechat.attempts", int(u64::from(r.attempts))),
        attr("edgechat.fallback", json!({ "boolValue": r.fallback })),
        attr("edgechat.usage_estimated", json!({ "boolValue": r.estimated })),
    ];
    let optional = [
        ("gen_ai.provider.name", r.provider.as_deref().map(provider_name)),
        ("gen_ai.response.model", r.model.as_deref()),
        ("error.type", r.error_type.as_deref()),
        ("edgechat.cache", r.cache),
        ("edgechat.task", r.task),
        ("edgechat.site_key", r.site_key.as_deref()),
    ];
    attrs.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| attr(k, s(v)))));
    if let Some(usd) = r.cost_usd {
        attrs.push(attr("edgechat.cost_usd", json!({ "doubleValue": usd })));
    }
    if let Some(t) = r.ttfb_ms {
        attrs.push(attr("edgechat.ttfb_ms", int(t)));
    }
    let failed = r.outcome == "error" || r.status >= 500;
    let status = match (failed, &r.error_type) {
        (true, Some(e)) => json!({ "code": 2, "message": e }),
        (true, None) => json!({ "code": 2 }),
        (false, _) => json!({}),
    };
    let start_ns = u128::from(r.time) * 1_000_000;
    let end_ns = start_ns + u128::from(r.duration_ms) * 1_000_000;
    let mut span = json!({
        "traceId": trace_id,
        "spanId": span_id,
        "name": format!("chat {request_model}").trim_end().to_string(),
        // SPAN_KIND_CLIENT: the edge calls the model (GenAI inference spans are client spans).
        "kind": 3,
        "startTimeUnixNano": start_ns.to_string(),
        "endTimeUnixNano": end_ns.to_string(),
        "attributes": attrs,
        "status": status,
    });
    if r.kind != "chat" {
        span["parentSpanId"] = request_span.into();
    }
    span
}

/// An `ExportTraceServiceRequest` (OTLP/HTTP JSON body) of `spans` (each [`span`]'s JSON text).
pub fn export_body(spans: &[String]) -> String {
    let resource = json!({ "attributes": [attr("service.name", s("edgechat-edge"))] }).to_string();
    let scope = json!({ "name": "edgechat", "version": env!("CARGO_PKG_VERSION") }).to_string();
    format!(
        "{{\"resourceSpans\":[{{\"resource\":{resource},\"scopeSpans\":[{{\"scope\":{scope},\"spans\":[{}]}}]}}]}}",
        spans.join(",")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exporter_reads_the_standard_variables() {
        let env = Env::from_pairs([
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20abc%3D,x-team = edge"),
        ]);
        let e = Exporter::from_env(&env).unwrap().unwrap();
        assert_eq!(e.url, "http://127.0.0.1:4318/v1/traces");
        assert_eq!(e.headers, vec![("authorization".into(), "Bearer abc=".into()), ("x-team".into(), "edge".into())]);
        assert_eq!(Exporter::from_env(&Env::default()).unwrap(), None);
        let bad =
            Env::from_pairs([("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x"), ("OTEL_EXPORTER_OTLP_HEADERS", "nokey")]);
        assert!(Exporter::from_env(&bad).unwrap_err().contains("OTEL_EXPORTER_OTLP_HEADERS"));
        let traces = Env::from_pairs([("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://c.example/t")]);
        assert_eq!(Exporter::from_env(&traces).unwrap().unwrap().url, "https://c.example/t");
    }

    #[test]
    fn spans_carry_the_genai_attributes() {
        let r = Record {
            id: "0123456789abcdef".into(),
            time: 1_000,
            kind: "chat",
            alias: Some("fast".into()),
            model: Some("gpt-4o-mini".into()),
            provider: Some("openai-chat".into()),
            outcome: "error",
            status: 502,
            input_tokens: 10,
            cache_read_tokens: 5,
            output_tokens: 3,
            cost_usd: Some(0.25),
            error_type: Some("502".into()),
            duration_ms: 7,
            ..Record::default()
        };
        let v = span(&r);
        let get =
            |k: &str| v["attributes"].as_array().unwrap().iter().find(|a| a["key"] == k).map(|a| a["value"].clone());
        assert_eq!(get("gen_ai.provider.name").unwrap()["stringValue"], "openai");
        assert_eq!(get("gen_ai.request.model").unwrap()["stringValue"], "fast");
        assert_eq!(get("gen_ai.response.model").unwrap()["stringValue"], "gpt-4o-mini");
        assert_eq!(get("gen_ai.usage.input_tokens").unwrap()["intValue"], "15");
        assert_eq!(get("error.type").unwrap()["stringValue"], "502");
        assert_eq!(get("edgechat.cost_usd").unwrap()["doubleValue"], 0.25);
        assert_eq!((v["status"]["code"].as_u64(), v["endTimeUnixNano"].as_str()), (Some(2), Some("1007000000")));
        assert_eq!(v["traceId"].as_str().unwrap().len(), 32);
        let summary = span(&Record { kind: "summary", ..r.clone() });
        assert_eq!(
            (summary["traceId"].clone(), summary["parentSpanId"].clone()),
            (v["traceId"].clone(), v["spanId"].clone())
        );
        let body: Value = serde_json::from_str(&export_body(&[v.to_string(), summary.to_string()])).unwrap();
        assert_eq!(body["resourceSpans"][0]["scopeSpans"][0]["spans"].as_array().unwrap().len(), 2);
    }
}
