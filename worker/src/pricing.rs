//! Cost of a request: configured price overrides first, then a small built-in table.
//!
//! TODO(core): use `edgechat::cost`'s pricing table once it exists (it was empty when this was written); the
//! overrides from `EDGECHAT_CONFIG.pricing` stay here.

use std::collections::BTreeMap;

use edgechat::Usage;

use crate::config::Price;

/// Built-in USD prices per million tokens (input, output, cache read, cache write), matched by model-id prefix.
const BUILT_IN: &[(&str, f64, f64, f64, f64)] = &[
    ("gpt-4o-mini", 0.15, 0.60, 0.075, 0.15),
    ("gpt-4o", 2.50, 10.00, 1.25, 2.50),
    ("gpt-4.1-mini", 0.40, 1.60, 0.10, 0.40),
    ("gpt-4.1-nano", 0.10, 0.40, 0.025, 0.10),
    ("gpt-4.1", 2.00, 8.00, 0.50, 2.00),
    ("gpt-5-mini", 0.25, 2.00, 0.025, 0.25),
    ("gpt-5-nano", 0.05, 0.40, 0.005, 0.05),
    ("gpt-5", 1.25, 10.00, 0.125, 1.25),
    ("claude-haiku-4-5", 1.00, 5.00, 0.10, 1.25),
    ("claude-sonnet-4", 3.00, 15.00, 0.30, 3.75),
    ("claude-opus-4", 15.00, 75.00, 1.50, 18.75),
    ("claude-3-5-haiku", 0.80, 4.00, 0.08, 1.00),
];

/// The price of `model`, if known.
pub fn price(overrides: &BTreeMap<String, Price>, model: &str) -> Option<Price> {
    if let Some(p) = overrides.get(model) {
        return Some(*p);
    }
    BUILT_IN.iter().find(|(prefix, ..)| model.starts_with(prefix)).map(|&(_, input, output, read, write)| Price {
        input,
        output,
        cache_read: Some(read),
        cache_write: Some(write),
    })
}

/// Cost in USD of `usage` on `model`; `None` when the price is unknown.
pub fn cost_usd(overrides: &BTreeMap<String, Price>, model: &str, usage: &Usage) -> Option<f64> {
    let p = price(overrides, model)?;
    let per = |tokens: u64, rate: f64| tokens as f64 * rate / 1_000_000.0;
    let c = per(usage.input_tokens, p.input)
        + per(usage.output_tokens, p.output)
        + per(usage.cache_read_input_tokens, p.cache_read.unwrap_or(p.input))
        + per(usage.cache_creation_input_tokens, p.cache_write.unwrap_or(p.input));
    Some((c * 1e9).round() / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_prefix_and_overrides() {
        let u = Usage { input_tokens: 1_000_000, output_tokens: 1_000_000, ..Usage::default() };
        assert_eq!(cost_usd(&BTreeMap::new(), "gpt-4o-mini-2024-07-18", &u), Some(0.75));
        assert_eq!(cost_usd(&BTreeMap::new(), "mystery", &u), None);
        let mut o = BTreeMap::new();
        o.insert("mystery".to_string(), Price { input: 1.0, output: 2.0, cache_read: None, cache_write: None });
        assert_eq!(cost_usd(&o, "mystery", &u), Some(3.0));
    }
}
