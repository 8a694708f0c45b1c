//! Pricing and cost of usage.
//!
//! Prices are USD per million tokens, as of [`PRICES_AS_OF`], from the providers' public pricing pages
//! (<https://developers.openai.com/api/docs/pricing>, <https://platform.claude.com/docs/en/about-claude/pricing>).
//! Standard tier only: batch, flex/priority tiers, regional endpoints and Anthropic's long-context (> 200K
//! prompt) rates are not modelled. Check before billing anyone; override what differs.
//!
//! # The table
//! Each model has an input, output, cache read and cache write price ([`ModelPrice`]). A missing cache price
//! means those tokens are billed at the input price: this is how OpenAI bills cache writes (it has no separate
//! write price), so OpenAI entries leave `cache_write` unset. Anthropic entries use the 5-minute cache write
//! price (1.25x input).
//!
//! # Matching a model id
//! 1. the exact id (`gpt-4o-2024-05-13` has its own, older price);
//! 2. otherwise an id that is a table key plus a snapshot suffix: `-YYYY-MM-DD` (OpenAI), `-YYYYMMDD`
//!    (Anthropic) or `-latest`, so `gpt-4o-mini-2024-07-18` is priced as `gpt-4o-mini`, `claude-sonnet-4-5-20250929`
//!    as `claude-sonnet-4-5`. Only a date or `latest` may follow the key, so `gpt-4o` never prices
//!    `gpt-4o-mini` and `o3` never prices `o3-pro`; if several keys match, the longest wins;
//! 3. otherwise the `"*"` entry, if the configuration has one (e.g. price every model of a local server at 0);
//! 4. otherwise the cost is unknown (`None`), never zero.
//!
//! # Overrides
//! [`PricingTable::apply_overrides_json`] merges a JSON object over the table, e.g. from an environment variable
//! at the edge: `{"my-local-model": {"input": 0, "output": 0}, "gpt-4o": {"input": 2.5, "output": 10,
//! "cache_read": 1.25}, "o3": null, "*": {"input": 0, "output": 0}}`. An entry replaces the model's price,
//! `null` removes it.
//!
//! ```
//! use edgechat::{cost, Usage};
//!
//! let usage = Usage { input_tokens: 1_000_000, output_tokens: 100_000, ..Default::default() };
//! assert_eq!(cost::cost("gpt-4o-mini-2024-07-18", &usage), Some(0.15 + 0.06));
//! assert_eq!(cost::cost("some-unknown-model", &usage), None);
//!
//! let mut table = cost::PricingTable::builtin();
//! table.apply_overrides_json(r#"{"llama3": {"input": 0, "output": 0}}"#)?;
//! assert_eq!(table.cost("llama3", &usage), Some(0.0));
//! # Ok::<(), cost::PricingError>(())
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::Usage;

/// The date the built-in prices were checked against the providers' pricing pages.
pub const PRICES_AS_OF: &str = "2026-11-05";

/// Key of the catch-all entry, used when no other entry matches.
pub const FALLBACK_KEY: &str = "*";

/// One model's prices, USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    /// Prompt tokens at the normal rate ([`Usage::input_tokens`]).
    pub input: f64,
    /// Output tokens ([`Usage::output_tokens`]).
    pub output: f64,
    /// Prompt tokens read from the cache ([`Usage::cache_read_input_tokens`]); `None`: billed as input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// Prompt tokens written to the cache ([`Usage::cache_creation_input_tokens`]); `None`: billed as input
    /// (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
}

impl ModelPrice {
    /// Everything free: a local model.
    pub const FREE: Self = Self { input: 0.0, output: 0.0, cache_read: None, cache_write: None };

    /// Cost in USD of `usage` at these prices.
    pub fn cost(&self, usage: &Usage) -> f64 {
        let per_token = |tokens: u64, usd_per_mtok: f64| tokens as f64 * usd_per_mtok / 1_000_000.0;
        per_token(usage.input_tokens, self.input)
            + per_token(usage.output_tokens, self.output)
            + per_token(usage.cache_read_input_tokens, self.cache_read.unwrap_or(self.input))
            + per_token(usage.cache_creation_input_tokens, self.cache_write.unwrap_or(self.input))
    }

    fn check(&self, model: &str) -> Result<(), PricingError> {
        let fields = [("input", Some(self.input)), ("output", Some(self.output)), ("cache_read", self.cache_read)];
        for (field, value) in fields.into_iter().chain([("cache_write", self.cache_write)]) {
            if let Some(v) = value.filter(|v| !v.is_finite() || *v < 0.0) {
                return Err(PricingError::InvalidPrice { model: model.to_owned(), field, value: v.to_string() });
            }
        }
        Ok(())
    }
}

/// A price configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PricingError {
    /// The overrides JSON could not be read (syntax, wrong type, unknown field).
    #[error("invalid pricing overrides JSON: {0}")]
    Json(String),
    /// A price is negative or not a number.
    #[error("price {field} of {model:?} is {value}; prices must be finite and not negative")]
    InvalidPrice {
        /// The model key.
        model: String,
        /// The field.
        field: &'static str,
        /// The value given.
        value: String,
    },
    /// An override has an empty model id.
    #[error("pricing override with an empty model id")]
    EmptyModel,
}

const fn openai(input: f64, cache_read: f64, output: f64) -> ModelPrice {
    ModelPrice { input, output, cache_read: Some(cache_read), cache_write: None }
}

const fn anthropic(input: f64, cache_write: f64, cache_read: f64, output: f64) -> ModelPrice {
    ModelPrice { input, output, cache_read: Some(cache_read), cache_write: Some(cache_write) }
}

const OPUS_45: ModelPrice = anthropic(5.0, 6.25, 0.50, 25.0);
const OPUS_4: ModelPrice = anthropic(15.0, 18.75, 1.50, 75.0);
const SONNET: ModelPrice = anthropic(3.0, 3.75, 0.30, 15.0);

/// The built-in prices (see the [module docs](self)). Prefer [`PricingTable::builtin`].
pub const BUILTIN_PRICES: &[(&str, ModelPrice)] = &[
    // OpenAI: input, cached input, output.
    ("gpt-4o", openai(2.50, 1.25, 10.00)),
    ("gpt-4o-2024-05-13", ModelPrice { input: 5.00, output: 15.00, cache_read: None, cache_write: None }),
    ("gpt-4o-mini", openai(0.15, 0.075, 0.60)),
    ("gpt-4.1", openai(2.00, 0.50, 8.00)),
    ("gpt-4.1-mini", openai(0.40, 0.10, 1.60)),
    ("gpt-4.1-nano", openai(0.10, 0.025, 0.40)),
    ("o3", openai(2.00, 0.50, 8.00)),
    ("o3-mini", openai(1.10, 0.55, 4.40)),
    ("o4-mini", openai(1.10, 0.275, 4.40)),
    ("gpt-5", openai(1.25, 0.125, 10.00)),
    ("gpt-5-chat-latest", openai(1.25, 0.125, 10.00)),
    ("gpt-5-mini", openai(0.25, 0.025, 2.00)),
    ("gpt-5-nano", openai(0.05, 0.005, 0.40)),
    ("gpt-5.1", openai(1.25, 0.125, 10.00)),
    ("gpt-5.2", openai(1.75, 0.175, 14.00)),
    ("gpt-5.4", openai(2.50, 0.25, 15.00)),
    ("gpt-5.4-mini", openai(0.75, 0.075, 4.50)),
    // Anthropic: input, 5-minute cache write, cache read, output.
    ("claude-opus-4-8", OPUS_45),
    ("claude-opus-4-7", OPUS_45),
    ("claude-opus-4-6", OPUS_45),
    ("claude-opus-4-5", OPUS_45),
    ("claude-opus-4-1", OPUS_4),
    ("claude-opus-4-0", OPUS_4),
    ("claude-opus-4", OPUS_4),
    ("claude-sonnet-4-6", SONNET),
    ("claude-sonnet-4-5", SONNET),
    ("claude-sonnet-4-0", SONNET),
    ("claude-sonnet-4", SONNET),
    ("claude-3-7-sonnet", SONNET),
    ("claude-haiku-4-5", anthropic(1.00, 1.25, 0.10, 5.00)),
    ("claude-3-5-haiku", anthropic(0.80, 1.00, 0.08, 4.00)),
    ("claude-3-haiku", anthropic(0.25, 0.30, 0.03, 1.25)),
];

/// Model prices with overrides. Serializes as a JSON object from model id to [`ModelPrice`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PricingTable {
    prices: BTreeMap<String, ModelPrice>,
}

impl PricingTable {
    /// The built-in prices.
    pub fn builtin() -> Self {
        // Inserted one by one: `collect` into a BTreeMap sorts first, and that sort's code is large in wasm.
        let mut prices = BTreeMap::new();
        for (k, p) in BUILTIN_PRICES {
            prices.insert((*k).to_owned(), *p);
        }
        Self { prices }
    }

    /// A table with no prices (every cost unknown until you add some).
    pub fn empty() -> Self {
        Self::default()
    }

    /// Sets `model`'s price (use [`FALLBACK_KEY`] for the catch-all).
    pub fn insert(&mut self, model: impl Into<String>, price: ModelPrice) {
        self.prices.insert(model.into(), price);
    }

    /// Removes `model`'s own entry; returns it.
    pub fn remove(&mut self, model: &str) -> Option<ModelPrice> {
        self.prices.remove(model)
    }

    /// The price that applies to `model` (see the [module docs](self) for the matching rules).
    pub fn get(&self, model: &str) -> Option<&ModelPrice> {
        lookup(self.prices.iter().map(|(k, p)| (k.as_str(), p)), model).or_else(|| self.prices.get(FALLBACK_KEY))
    }

    /// Cost in USD of `usage` on `model`; `None` when the model has no price.
    pub fn cost(&self, model: &str, usage: &Usage) -> Option<f64> {
        self.get(model).map(|p| p.cost(usage))
    }

    /// Merges `overrides` over the table: a price replaces the model's entry, `None` removes it. Nothing
    /// changes if any price is invalid.
    pub fn apply_overrides(&mut self, overrides: BTreeMap<String, Option<ModelPrice>>) -> Result<(), PricingError> {
        for (model, price) in &overrides {
            if model.is_empty() {
                return Err(PricingError::EmptyModel);
            }
            if let Some(price) = price {
                price.check(model)?;
            }
        }
        for (model, price) in overrides {
            match price {
                Some(price) => self.prices.insert(model, price),
                None => self.prices.remove(&model),
            };
        }
        Ok(())
    }

    /// [`PricingTable::apply_overrides`] from a JSON object (see the [module docs](self)).
    pub fn apply_overrides_json(&mut self, json: &str) -> Result<(), PricingError> {
        let overrides = serde_json::from_str(json).map_err(|e| PricingError::Json(e.to_string()))?;
        self.apply_overrides(overrides)
    }
}

/// Cost in USD of `usage` on `model` at the built-in prices; `None` when the model is unknown.
pub fn cost(model: &str, usage: &Usage) -> Option<f64> {
    builtin_price(model).map(|p| p.cost(usage))
}

/// The built-in price for `model`, without building a table.
pub fn builtin_price(model: &str) -> Option<&'static ModelPrice> {
    lookup(BUILTIN_PRICES.iter().map(|(k, p)| (*k, p)), model)
}

/// Exact match, else the longest key that `model` extends by a snapshot suffix.
fn lookup<'a>(entries: impl Iterator<Item = (&'a str, &'a ModelPrice)>, model: &str) -> Option<&'a ModelPrice> {
    let mut best: Option<(&str, &ModelPrice)> = None;
    for (key, price) in entries {
        if key == model {
            return Some(price);
        }
        let extends = model.strip_prefix(key).and_then(|rest| rest.strip_prefix('-')).is_some_and(is_snapshot_suffix);
        if extends && best.is_none_or(|(b, _)| key.len() > b.len()) {
            best = Some((key, price));
        }
    }
    best.map(|(_, p)| p)
}

/// `YYYY-MM-DD`, `YYYYMMDD` or `latest`.
fn is_snapshot_suffix(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    match b.len() {
        8 => digits(b),
        10 => digits(&b[..4]) && b[4] == b'-' && digits(&b[5..7]) && b[7] == b'-' && digits(&b[8..]),
        _ => s == "latest",
    }
}
