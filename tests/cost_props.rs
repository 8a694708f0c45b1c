//! Property tests for the pricing table.
#![cfg(not(target_arch = "wasm32"))]

use edgechat::cost::{builtin_price, cost, BUILTIN_PRICES};
use edgechat::Usage;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn dated_snapshot_of_any_key_prices_as_the_key(
        key in proptest::sample::select(BUILTIN_PRICES.iter().map(|(k, _)| *k).collect::<Vec<_>>()),
        y in 2023u32..2030, m in 1u32..13, d in 1u32..29, compact in any::<bool>()
    ) {
        let id = if compact { format!("{key}-{y}{m:02}{d:02}") } else { format!("{key}-{y}-{m:02}-{d:02}") };
        // An exact entry for the snapshot (e.g. gpt-4o-2024-05-13) legitimately wins.
        if !BUILTIN_PRICES.iter().any(|(k, _)| *k == id) {
            prop_assert_eq!(builtin_price(&id), builtin_price(key));
        }
    }

    #[test]
    fn other_suffixes_are_unknown(
        key in proptest::sample::select(BUILTIN_PRICES.iter().map(|(k, _)| *k).collect::<Vec<_>>()),
        suffix in "-(pro|preview|x|[a-z]{2,6}|[0-9]{1,7})"
    ) {
        let id = format!("{key}{suffix}");
        // `-latest` is a documented snapshot alias; an exact entry legitimately wins.
        if suffix != "-latest" && !BUILTIN_PRICES.iter().any(|(k, _)| *k == id) {
            prop_assert_eq!(builtin_price(&id), None, "{}", id);
        }
    }

    #[test]
    fn cost_is_linear_and_non_negative(
        key in proptest::sample::select(BUILTIN_PRICES.iter().map(|(k, _)| *k).collect::<Vec<_>>()),
        a in 0u64..10_000_000, b in 0u64..10_000_000, c in 0u64..1_000_000, w in 0u64..1_000_000
    ) {
        let u = Usage { input_tokens: a, output_tokens: b, cache_read_input_tokens: c, cache_creation_input_tokens: w };
        let twice = Usage { input_tokens: 2 * a, output_tokens: 2 * b, cache_read_input_tokens: 2 * c, cache_creation_input_tokens: 2 * w };
        let (one, two) = (cost(key, &u).unwrap(), cost(key, &twice).unwrap());
        prop_assert!(one >= 0.0);
        prop_assert!((two - 2.0 * one).abs() <= 1e-9 * two.max(1.0));
    }
}
