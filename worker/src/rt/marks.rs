//! Where a request is on its way to the first byte, for `bench/edge/marks.mjs`: built with the `phase-marks`
//! feature, each mark reaches `glue.mjs` `edgeMark`, which prints a request's marks (times from `Date.now()`) once its
//! first write is made. Without the feature every mark compiles to nothing, so the product carries none of this.

/// Declares `Mark` and, for the test below, each mark's name beside it, so the names are written once.
macro_rules! marks {
    ($(#[$m:meta])* $vis:vis enum $ty:ident { $($(#[$doc:meta])* $name:ident = $k:literal,)* }) => {
        $(#[$m])* $vis enum $ty { $($(#[$doc])* $name = $k,)* }
        #[cfg(test)]
        const NAMES: &[($ty, &str)] = &[$(($ty::$name, stringify!($name)),)*];
    };
}

marks! {
    /// A point on `/api/chat`'s path to its first byte, in the order a request passes them. `bench/edge/marks.json`
    /// names each number for `bench/edge/marks.mjs` (the test below checks it against this enum).
    #[derive(Clone, Copy)]
    pub(crate) enum Mark {
        /// The request reached the edge's router.
        Start = 0,
        /// The request headers the edge reads are in wasm.
        Headers = 1,
        /// The configuration, bindings and request context are ready.
        Context = 2,
        /// The body is read.
        BodyRead = 3,
        /// The widget body is parsed and checked, its conversation composed.
        Prepared = 4,
        /// The primary model's request is built.
        Built = 5,
        /// Limits, context fitting and caches are passed: the upstream request is about to be made.
        Admitted = 6,
        /// The upstream `fetch` is about to be called.
        FetchCall = 7,
        /// The upstream `fetch` call has returned its promise.
        FetchReturned = 8,
        /// The upstream response's headers are in.
        UpstreamHeaders = 9,
        /// The upstream's first chunk is in.
        FirstChunk = 10,
        /// The client's streaming response is made.
        ResponseMade = 11,
        /// The stream machine is made.
        MachineMade = 12,
        /// A write to the client is made (the first one ends a request's marks).
        Write = 13,
    }
}

#[cfg(feature = "phase-marks")]
mod on {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/src/rt/glue.mjs")]
    extern "C" {
        #[wasm_bindgen(js_name = edgeMark)]
        pub fn edge_mark(k: u32, write: bool);
    }
}

/// Records `at` (with the `phase-marks` feature; nothing otherwise).
#[inline(always)]
pub(crate) fn mark(at: Mark) {
    #[cfg(feature = "phase-marks")]
    on::edge_mark(at as u32, matches!(at, Mark::Write));
    #[cfg(not(feature = "phase-marks"))]
    let _ = at;
}

#[cfg(test)]
mod tests {
    use super::NAMES;

    /// `bench/edge/marks.json`, which `marks.mjs` reads the edge's numbers with, is this enum: the same names with
    /// the same numbers, in order.
    #[test]
    fn the_benchmark_table_is_the_enum() {
        let table: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../../../bench/edge/marks.json")).expect("marks.json is JSON");
        let table: Vec<(u64, &str)> =
            table.iter().map(|e| (e["k"].as_u64().expect("k"), e["mark"].as_str().expect("mark"))).collect();
        let marks: Vec<(u64, &str)> = NAMES.iter().map(|&(m, name)| (m as u64, name)).collect();
        assert_eq!(table, marks);
    }
}
