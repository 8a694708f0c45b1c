//! OpenTelemetry: where spans go. The spans themselves (one per request, and per summarizer call, in OTLP/HTTP
//! JSON with the GenAI semantic conventions, built from the request's usage record), their batching and sending are
//! `otel.mjs`'s (JavaScript, imported by `rt/usage.rs`: it costs the edge's wasm nothing).
//!
//! Configured by the standard exporter variables (<https://opentelemetry.io/docs/specs/otel/protocol/exporter/>):
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (the signal path `/v1/traces` is appended) or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
//! (used as is), and `OTEL_EXPORTER_OTLP_HEADERS` (`k=v,k2=v2`, values percent-decoded).

use crate::config::Env;

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
                let k = percent_decode(k.trim())?;
                let v = percent_decode(v.trim())?;
                let ok = !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                ok.then_some((k.to_ascii_lowercase(), v))
            });
            headers.push(parsed.ok_or("OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs separated by commas")?);
        }
        Ok(Some(Self { url, headers }))
    }
}

/// Percent-decodes `s` (`+` stays a plus, as in W3C Baggage); `None` for a bad escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(s.get(i + 1..i + 3)?, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl Exporter {
    /// What `otel.mjs` needs (JSON): `{"url", "headers": [[k, v], …], "version"}`.
    pub fn to_json(&self) -> String {
        let headers: Vec<[&str; 2]> = self.headers.iter().map(|(k, v)| [k.as_str(), v.as_str()]).collect();
        serde_json::json!({ "url": self.url, "headers": headers, "version": env!("CARGO_PKG_VERSION") }).to_string()
    }
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
        let e = Exporter::from_env(&traces).unwrap().unwrap();
        assert_eq!(e.url, "https://c.example/t");
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["url"], "https://c.example/t");
    }
}
