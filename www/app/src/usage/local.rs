//! This browser's share: tokens and cost per thread and in total, from the answers' `usage` events (what the
//! edge reported to this browser; no admin token needed).

use leptos::prelude::*;

use crate::ctx::use_app;
use crate::format;
use crate::threads::Usage;

/// The per-thread usage table.
#[component]
pub fn LocalUsage() -> impl IntoView {
    let app = use_app();
    let rows = Memo::new(move |_| {
        app.threads.with(|t| t.list.iter().map(|t| (t.id.clone(), t.title.clone(), t.digest.usage)).collect::<Vec<_>>())
    });
    let total = Memo::new(move |_| app.threads.with(|t| t.total()));
    let cost = |u: &Usage| {
        if u.answers == 0 {
            "–".to_string()
        } else if u.unpriced == u.answers {
            "unknown".to_string()
        } else {
            format!("{}{}", format::cost(u.cost), if u.unpriced > 0 { " +" } else { "" })
        }
    };
    view! {
        <section class="local-usage" aria-labelledby="local-usage-title">
            <h2 id="local-usage-title">"Your threads in this browser"</h2>
            <p class="note">"Tokens and cost of every answer, as the edge reported them in its usage events. "
                "“+” means some answers had no known price; estimated counts are marked in each answer."</p>
            <div class="table-wrap" tabindex="0" role="region" aria-label="Usage per thread">
                <table class="usage-table">
                    <thead><tr>
                        <th scope="col">"Thread"</th><th scope="col" class="num">"Answers"</th>
                        <th scope="col" class="num">"Input tokens"</th><th scope="col" class="num">"Output tokens"</th><th scope="col" class="num">"Cost"</th>
                    </tr></thead>
                    <tbody>
                        <For each=move || rows.get() key=|r| (r.0.clone(), r.2.answers, r.2.input, r.2.output, r.1.clone()) let:r>
                            <tr>
                                <th scope="row"><a href=format!("/t/{}", r.0)>{r.1.clone()}</a></th>
                                <td class="num">{r.2.answers}</td>
                                <td class="num">{format::count(r.2.input)}</td>
                                <td class="num">{format::count(r.2.output)}</td>
                                <td class="num">{cost(&r.2)}</td>
                            </tr>
                        </For>
                    </tbody>
                    <tfoot>
                        <tr class="total">
                            <th scope="row">"Total"</th>
                            <td class="num">{move || total.get().answers}</td>
                            <td class="num">{move || format::count(total.get().input)}</td>
                            <td class="num">{move || format::count(total.get().output)}</td>
                            <td class="num total-cost">{move || cost(&total.get())}</td>
                        </tr>
                    </tfoot>
                </table>
            </div>
        </section>
    }
}
