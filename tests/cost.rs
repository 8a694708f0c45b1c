//! Pricing table: lookups, snapshot ids, overrides, unknown models.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use edgechat::cost::{self, builtin_price, ModelPrice, PricingError, PricingTable, BUILTIN_PRICES, FALLBACK_KEY};
use edgechat::Usage;

fn million(input: u64, output: u64, cache_read: u64, cache_write: u64) -> Usage {
    Usage {
        input_tokens: input * 1_000_000,
        output_tokens: output * 1_000_000,
        cache_read_input_tokens: cache_read * 1_000_000,
        cache_creation_input_tokens: cache_write * 1_000_000,
    }
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn every_required_model_has_a_price() {
    for model in [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "o3",
        "o4-mini",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
        "claude-opus-4-1",
        "claude-opus-4-5",
        "claude-sonnet-4-5",
        "claude-sonnet-4-0",
        "claude-3-5-haiku",
        "claude-haiku-4-5",
    ] {
        assert!(builtin_price(model).is_some(), "{model}");
    }
}

#[test]
fn builtin_prices_are_sane() {
    for (model, p) in BUILTIN_PRICES {
        assert!(p.input >= 0.0 && p.output > p.input, "{model}");
        assert!(p.cache_read.is_some_and(|r| r < p.input) || p.cache_read.is_none(), "{model}");
        if model.starts_with("claude") {
            let w = p.cache_write.unwrap();
            // Claude Haiku 3's published write price ($0.30) is 1.2x, rounded from 1.25x.
            let factor = if *model == "claude-3-haiku" { 1.2 } else { 1.25 };
            assert!((w - p.input * factor).abs() < 1e-9, "{model}: 5-minute cache write is 1.25x input");
        } else {
            assert_eq!(p.cache_write, None, "{model}: OpenAI bills cache writes as input");
        }
    }
}

#[test]
fn known_prices() {
    assert!(close(cost::cost("gpt-4o", &million(1, 1, 0, 0)), 2.50 + 10.00));
    assert!(close(cost::cost("gpt-4o-mini", &million(1, 1, 1, 0)), 0.15 + 0.60 + 0.075));
    assert!(close(cost::cost("gpt-5-nano", &million(1, 1, 1, 0)), 0.05 + 0.40 + 0.005));
    assert!(close(cost::cost("claude-sonnet-4-5", &million(1, 1, 1, 1)), 3.0 + 15.0 + 0.30 + 3.75));
    assert!(close(cost::cost("claude-opus-4-1", &million(1, 1, 0, 0)), 15.0 + 75.0));
    assert!(close(cost::cost("claude-opus-4-5", &million(1, 1, 0, 0)), 5.0 + 25.0));
    assert!(close(cost::cost("claude-haiku-4-5", &million(1, 1, 0, 0)), 1.0 + 5.0));
    assert!(close(cost::cost("claude-3-5-haiku", &million(1, 1, 0, 0)), 0.80 + 4.0));
}

#[test]
fn openai_cache_writes_are_billed_as_input() {
    assert!(close(cost::cost("gpt-4.1", &million(0, 0, 0, 1)), 2.00));
}

#[test]
fn small_usage_is_priced_per_token() {
    let usage = Usage { input_tokens: 1_000, output_tokens: 500, ..Default::default() };
    assert!(close(cost::cost("gpt-4o-mini", &usage), (1_000.0 * 0.15 + 500.0 * 0.60) / 1e6));
    assert_eq!(cost::cost("gpt-4o-mini", &Usage::default()), Some(0.0));
}

#[test]
fn dated_snapshots_match_their_base_model() {
    let u = million(1, 0, 0, 0);
    assert!(close(cost::cost("gpt-4o-mini-2024-07-18", &u), 0.15));
    assert!(close(cost::cost("gpt-4o-2024-08-06", &u), 2.50));
    assert!(close(cost::cost("gpt-4.1-nano-2025-04-14", &u), 0.10));
    assert!(close(cost::cost("claude-sonnet-4-5-20250929", &u), 3.0));
    assert!(close(cost::cost("claude-opus-4-1-20250805", &u), 15.0));
    assert!(close(cost::cost("claude-opus-4-5-20251101", &u), 5.0));
    assert!(close(cost::cost("claude-opus-4-20250514", &u), 15.0));
    assert!(close(cost::cost("claude-3-5-haiku-20241022", &u), 0.80));
    assert!(close(cost::cost("claude-3-5-haiku-latest", &u), 0.80));
}

#[test]
fn exact_entry_beats_snapshot_rule() {
    // The first gpt-4o snapshot kept its launch price.
    assert!(close(cost::cost("gpt-4o-2024-05-13", &million(1, 0, 0, 0)), 5.0));
}

#[test]
fn a_shorter_key_never_swallows_a_longer_model() {
    let u = million(1, 0, 0, 0);
    assert!(close(cost::cost("gpt-4o-mini", &u), 0.15)); // not gpt-4o's 2.50
    assert_eq!(cost::cost("o3-pro", &u), None); // not o3's price
    assert_eq!(cost::cost("o3-deep-research", &u), None);
    assert_eq!(cost::cost("gpt-5-pro", &u), None);
    assert_eq!(cost::cost("claude-opus-4-9", &u), None); // not claude-opus-4's price
    assert_eq!(cost::cost("gpt-4o-2024", &u), None);
    assert_eq!(cost::cost("gpt-4o-2024-13-1x", &u), None);
}

#[test]
fn unknown_model_is_unknown_not_free() {
    assert_eq!(cost::cost("llama3.2:1b", &million(1, 1, 0, 0)), None);
    assert_eq!(cost::cost("", &million(1, 1, 0, 0)), None);
    assert_eq!(PricingTable::empty().cost("gpt-4o", &million(1, 0, 0, 0)), None);
}

#[test]
fn overrides_merge_over_defaults() {
    let mut t = PricingTable::builtin();
    t.apply_overrides_json(
        r#"{
            "smollm2": {"input": 0, "output": 0},
            "gpt-4o": {"input": 1, "output": 2, "cache_read": 0.5},
            "o3": null
        }"#,
    )
    .unwrap();
    let u = million(1, 1, 1, 0);
    assert_eq!(t.cost("smollm2", &u), Some(0.0));
    assert!(close(t.cost("gpt-4o", &u), 3.5));
    assert!(close(t.cost("gpt-4o-2024-08-06", &u), 3.5)); // snapshots follow the override
    assert_eq!(t.cost("o3", &u), None);
    assert!(close(t.cost("gpt-4o-mini", &million(1, 0, 0, 0)), 0.15)); // untouched defaults stay
}

#[test]
fn fallback_entry_prices_every_other_model() {
    let mut t = PricingTable::builtin();
    t.insert(FALLBACK_KEY, ModelPrice::FREE);
    assert_eq!(t.cost("whatever-local-model", &million(5, 5, 0, 0)), Some(0.0));
    assert!(close(t.cost("gpt-4o", &million(1, 0, 0, 0)), 2.5));
    assert_eq!(t.remove(FALLBACK_KEY), Some(ModelPrice::FREE));
    assert_eq!(t.cost("whatever-local-model", &million(5, 5, 0, 0)), None);
}

#[test]
fn invalid_overrides_are_refused_and_change_nothing() {
    let mut t = PricingTable::builtin();
    let before = t.clone();
    assert!(matches!(
        t.apply_overrides_json(r#"{"a": {"input": 1, "output": 1}, "b": {"input": -1, "output": 1}}"#),
        Err(PricingError::InvalidPrice { ref model, field: "input", .. }) if model == "b"
    ));
    assert!(matches!(t.apply_overrides_json(r#"{"a": {"input": 1}}"#), Err(PricingError::Json(_))));
    assert!(matches!(
        t.apply_overrides_json(r#"{"a": {"input": 1, "output": 1, "cache": 1}}"#),
        Err(PricingError::Json(_))
    ));
    assert!(matches!(t.apply_overrides_json(r#"["gpt-4o"]"#), Err(PricingError::Json(_))));
    assert_eq!(t.apply_overrides_json(r#"{"": {"input": 1, "output": 1}}"#), Err(PricingError::EmptyModel));
    assert_eq!(t, before);
}

#[test]
fn table_serde_round_trip() {
    let t = PricingTable::builtin();
    let json = serde_json::to_string(&t).unwrap();
    assert!(json.starts_with('{') && json.contains("\"gpt-4o-mini\""));
    let back: PricingTable = serde_json::from_str(&json).unwrap();
    assert_eq!(back, t);
    for (model, p) in BUILTIN_PRICES {
        assert_eq!(t.get(model), Some(p));
    }
}
