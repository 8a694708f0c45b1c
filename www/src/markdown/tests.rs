//! Native tests of the pure markdown logic (the DOM side is tested in the browser, `www/tests/`).

use super::*;

fn t(s: &str) -> Inline {
    Inline::Text(s.to_string())
}

const DOCS: &[&str] = &[
    "# Title\n\nSome *em* and **strong** text.\n\n- one\n- two\n  - nested\n- three\n\nAfter list.\n",
    "```rust\nfn main() {\n\n    println!(\"hi\");\n}\n```\nText after code\n",
    "| a | b |\n|:--|--:|\n| 1 | 2 |\n| 3 | 4 |\n\nDone.",
    "> quote line\n> more\n\n1. first\n2. second\n\n---\n\nend `code` here",
    "Para one\nstill para\n## Heading\nnext para with [link](https://example.com) and <https://a.example/x>.\n",
    "1. a\n\n2. b\n\n   continued\n3. c\nlazy\n\n* star\n",
    "<script>alert(1)</script>\n\n[x](javascript:alert(1)) ![img](https://e.example/a.png \"t\")\n",
    "Text\n```\nunclosed code\n",
    "~~gone~~ and snake_case_word and 2 * 3 * 4 &amp; &lt;b&gt; \\*not em\\*",
    "Line with two spaces  \nbreak and https://example.org/path). end",
    "héllo wörld — ünïcode ✓\n\n- ✓ item\n",
    "- [x] done\n- [ ] todo\n  more\n- [X] also\n\n1. [ ] numbered\n",
    "A paragraph\n    whose next line is indented\nstays one.\n\n    but this is code\n\nTitle\n=====\n\nSub\n---\n",
    "See [the docs](/docs/a.md) and [ref][r], [r] too.\n\n[r]: ./rel/path \"Title\"\n",
    "- loose\n\n- list\n\n> quote\nlazy\n\n***\n\tcode with tab\n",
    "*a **b** c* __d__ _e_ ***f*** [x *y*](https://e.example) `c`\n",
];

fn item(blocks: Vec<Block>) -> Item {
    Item { task: None, blocks }
}

fn pi(s: &str, partial: bool) -> Vec<Inline> {
    parse_inlines(s, &Refs::default(), partial)
}

fn one_shot(doc: &str) -> Vec<Block> {
    parse_blocks(doc, false)
}

fn streamed(pieces: &[&str]) -> Vec<Block> {
    IncrementalMarkdown::stream_all(pieces)
}

#[test]
fn split_at_every_byte_gives_the_same_blocks() {
    for doc in DOCS {
        let whole = one_shot(doc);
        for i in 0..=doc.len() {
            if !doc.is_char_boundary(i) {
                continue;
            }
            let got = streamed(&[&doc[..i], "", &doc[i..]]);
            assert_eq!(got, whole, "doc {doc:?} split at {i}");
        }
    }
}

#[test]
fn char_by_char_streaming_gives_the_same_blocks() {
    for doc in DOCS {
        let pieces: Vec<String> = doc.chars().map(String::from).collect();
        let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
        assert_eq!(streamed(&refs), one_shot(doc), "doc {doc:?}");
    }
}

#[test]
fn blocks_are_final_once_nothing_can_continue_them() {
    let mut md = IncrementalMarkdown::new();
    let u = md.push("# Tit");
    assert!(u.finished.is_empty());
    assert_eq!(u.tail, vec![Block::Heading { level: 1, content: vec![t("Tit")] }]);
    // A complete heading line: nothing can continue it, so it is final at once.
    let u = md.push("le\n");
    assert_eq!(u.finished, vec![Block::Heading { level: 1, content: vec![t("Title")] }]);
    assert!(u.tail.is_empty());
    assert_eq!(md.committed_len(), "# Title\n".len());
    let u = md.push("Para");
    assert!(u.finished.is_empty());
    let u = md.push(" text\n");
    assert!(u.finished.is_empty());
    assert_eq!(u.tail, vec![Block::Paragraph(vec![t("Para text")])]);
    assert_eq!(md.committed_len(), "# Title\n".len());
}

#[test]
fn blank_line_closes_a_paragraph_but_not_a_list() {
    let mut md = IncrementalMarkdown::new();
    let u = md.push("Para one.\n\n");
    assert_eq!(u.finished, vec![Block::Paragraph(vec![t("Para one.")])]);
    assert!(u.tail.is_empty());
    let u = md.push("- a\n\n");
    assert!(u.finished.is_empty(), "a list may continue after a blank line");
    let u = md.push("- b\n\nAfter\n");
    assert_eq!(u.finished.len(), 1);
    assert!(matches!(&u.finished[0], Block::List { items, .. } if items.len() == 2));
}

#[test]
fn tail_work_stays_bounded_as_the_answer_grows() {
    let mut md = IncrementalMarkdown::new();
    for i in 0..2000 {
        md.push(&format!("Paragraph {i} with some words.\n\n"));
    }
    assert!(md.text().len() - md.committed_len() < 64, "uncommitted tail should be one paragraph");
}

#[test]
fn partial_emphasis_and_code_render_formatted_without_flicker() {
    assert_eq!(pi("a **bo", true), vec![t("a "), Inline::Strong(vec![t("bo")])]);
    assert_eq!(pi("a **", true), vec![t("a ")]);
    assert_eq!(pi("run `cargo b", true), vec![t("run "), Inline::Code("cargo b".into())]);
    assert_eq!(pi("see [docs](https://ex", true), vec![t("see "), Inline::PendingLink(vec![t("docs")])]);
    // Strict parse: unclosed markup is literal text.
    assert_eq!(pi("a **bo", false), vec![t("a **bo")]);
}

#[test]
fn trailing_markup_only_line_is_hidden_in_the_tail() {
    let mut md = IncrementalMarkdown::new();
    let u = md.push("Intro\n##");
    assert_eq!(u.tail, vec![Block::Paragraph(vec![t("Intro")])]);
    let u = md.push(" Hea");
    assert!(u.finished.is_empty());
    assert_eq!(u.tail, vec![Block::Paragraph(vec![t("Intro")]), Block::Heading { level: 2, content: vec![t("Hea")] }]);
    let u = md.push("d\n");
    assert_eq!(
        u.finished,
        vec![Block::Paragraph(vec![t("Intro")]), Block::Heading { level: 2, content: vec![t("Head")] }]
    );
}

#[test]
fn partial_closing_fence_is_not_shown_as_code() {
    let mut md = IncrementalMarkdown::new();
    let u = md.push("```js\nlet a = 1;\n``");
    assert_eq!(u.tail, vec![Block::Code { lang: "js".into(), code: "let a = 1;\n".into() }]);
}

#[test]
fn unsafe_links_are_text_and_safe_links_keep_their_href() {
    let got = pi("[a](javascript:alert(1)) [b](https://ok.example/p?q=1) [c](data:text/html,x)", false);
    assert_eq!(
        got,
        vec![
            t("[a](javascript:alert(1)) "),
            Inline::Link { href: "https://ok.example/p?q=1".into(), children: vec![t("b")] },
            t(" [c](data:text/html,x)"),
        ]
    );
    assert_eq!(safe_href(" JAVASCRIPT:alert(1)"), None);
    assert_eq!(safe_href("HTTPS://x.example"), Some("HTTPS://x.example".into()));
    // Characters a URL may not hold raw are percent-encoded, so they can neither end the attribute nor hide a scheme.
    assert_eq!(safe_href("https://x.example/a\u{0}b"), Some("https://x.example/a%00b".into()));
    assert_eq!(safe_href("java\tscript:alert(1)"), Some("java%09script:alert(1)".into()));
    assert_eq!(safe_href("vbscript:x"), None);
    assert_eq!(safe_href("data:text/html,x"), None);
    // Relative links are links.
    assert_eq!(safe_href("/docs/a b.html#x"), Some("/docs/a%20b.html#x".into()));
    assert_eq!(safe_href("page.md"), Some("page.md".into()));
    assert_eq!(safe_href("mailto:a@b.example"), Some("mailto:a@b.example".into()));
    assert_eq!(safe_href("//evil.example"), None);
    assert_eq!(
        safe_href("https://ok.example/\"onmouseover=\"x"),
        Some("https://ok.example/%22onmouseover=%22x".into())
    );
}

#[test]
fn images_become_links_never_images() {
    let got = pi("![cat](https://e.example/cat.png)", false);
    assert_eq!(got, vec![Inline::Link { href: "https://e.example/cat.png".into(), children: vec![t("image: cat")] }]);
    let got = pi("![x](javascript:alert(1))", false);
    assert_eq!(got, vec![t("![x](javascript:alert(1))")]);
}

#[test]
fn raw_html_and_entities_stay_text() {
    let got = parse_blocks("<img src=x onerror=alert(1)> &lt;script&gt;", false);
    assert_eq!(got, vec![Block::Paragraph(vec![t("<img src=x onerror=alert(1)> <script>")])]);
}

#[test]
fn tables_lists_and_code_parse() {
    let got = parse_blocks("| a | b |\n|:-:|--:|\n| `x\\|y` | 2 |\n", false);
    assert_eq!(
        got,
        vec![Block::Table {
            head: vec![vec![t("a")], vec![t("b")]],
            align: vec![Align::Center, Align::Right],
            rows: vec![vec![vec![Inline::Code("x|y".into())], vec![t("2")]]],
        }]
    );
    let got = parse_blocks("3. c\n4. d\n   - e\n", false);
    assert_eq!(
        got,
        vec![Block::List {
            ordered: true,
            start: 3,
            tight: true,
            items: vec![
                item(vec![Block::Paragraph(vec![t("c")])]),
                item(vec![
                    Block::Paragraph(vec![t("d")]),
                    Block::List {
                        ordered: false,
                        start: 1,
                        tight: true,
                        items: vec![item(vec![Block::Paragraph(vec![t("e")])])]
                    }
                ]),
            ],
        }]
    );
    let got = parse_blocks("~~~\n```\ninside\n~~~\n", false);
    assert_eq!(got, vec![Block::Code { lang: String::new(), code: "```\ninside\n".into() }]);
}

#[test]
fn emphasis_rules() {
    assert_eq!(pi("snake_case_name", false), vec![t("snake_case_name")]);
    assert_eq!(pi("2 * 3 * 4", false), vec![t("2 * 3 * 4")]);
    assert_eq!(pi("*a **b** c*", false), vec![Inline::Em(vec![t("a "), Inline::Strong(vec![t("b")]), t(" c")])]);
    assert_eq!(pi("***x***", false), vec![Inline::Em(vec![Inline::Strong(vec![t("x")])])]);
    assert_eq!(pi("`a*b*`", false), vec![Inline::Code("a*b*".into())]);
}

#[test]
fn bare_urls_drop_trailing_punctuation() {
    let got = pi("see https://example.org/a_(b). ok", false);
    assert_eq!(
        got,
        vec![
            t("see "),
            Inline::Link { href: "https://example.org/a_(b)".into(), children: vec![t("https://example.org/a_(b)")] },
            t(". ok")
        ]
    );
}

#[test]
fn arbitrary_input_never_panics() {
    let junk = [
        "[",
        "](",
        "![](",
        "**_~~`",
        "| |\n|-|\n",
        "```\n```",
        "&#xFFFFFFFF;",
        "&#0;",
        "- \n-\n1.\n",
        "\\",
        "> > >",
        "[[]]()",
        "<>",
    ];
    for a in junk {
        for b in junk {
            let s = format!("{a}{b}\n{b}{a}");
            let _ = parse_blocks(&s, true);
            let _ = parse_blocks(&s, false);
            let _ = streamed(&[a, b, a]);
        }
    }
}

#[test]
fn task_items_keep_their_text_and_state() {
    // Reproduces #14: `- [x] done` rendered as `x] done`.
    let got = parse_blocks("- [x] done\n- [ ] todo\n- [X] up\n- [y] no\n- [x]\n", false);
    let Block::List { items, tight: true, .. } = &got[0] else { panic!("{got:?}") };
    let tasks: Vec<Option<bool>> = items.iter().map(|i| i.task).collect();
    assert_eq!(tasks, [Some(true), Some(false), Some(true), None, None]);
    assert_eq!(items[0].blocks, vec![Block::Paragraph(vec![t("done")])]);
    assert_eq!(items[3].blocks, vec![Block::Paragraph(vec![t("[y] no")])]);
    let html = render::to_html(&got);
    assert!(html.contains(r#"<li class="ec-task"><input type="checkbox" disabled="" checked=""> done</li>"#), "{html}");
    assert!(html.contains(r#"<input type="checkbox" disabled=""> todo"#), "{html}");
    // Streamed one character at a time, the same.
    let doc = "- [x] done\n";
    let pieces: Vec<String> = doc.chars().map(String::from).collect();
    let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
    assert_eq!(streamed(&refs), one_shot(doc));
}

#[test]
fn an_indented_next_line_continues_the_paragraph() {
    // Reproduces #14: rendered differently streamed than whole.
    let doc = "Some text\n    indented continuation\n";
    assert_eq!(one_shot(doc), vec![Block::Paragraph(vec![t("Some text\nindented continuation")])]);
    for i in 0..=doc.len() {
        assert_eq!(streamed(&[&doc[..i], &doc[i..]]), one_shot(doc), "split at {i}");
    }
}

#[test]
fn relative_links_are_links() {
    let got = pi("[a](/docs/x.md) [b](./y) [c](#top) [d](<with space>)", false);
    let hrefs: Vec<&str> = got
        .iter()
        .filter_map(|i| match i {
            Inline::Link { href, .. } => Some(href.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(hrefs, ["/docs/x.md", "./y", "#top", "with%20space"]);
}

#[test]
fn setext_headings_indented_code_and_loose_lists() {
    assert_eq!(one_shot("Title\n===\n"), vec![Block::Heading { level: 1, content: vec![t("Title")] }]);
    assert_eq!(one_shot("    let x;\n"), vec![Block::Code { lang: String::new(), code: "let x;\n".into() }]);
    assert!(matches!(&one_shot("- a\n\n- b\n")[0], Block::List { tight: false, .. }));
    assert!(matches!(&one_shot("- a\n- b\n")[0], Block::List { tight: true, .. }));
    let html = render::to_html(&one_shot("- a\n\n- b\n"));
    assert_eq!(html, "<ul><li><p>a</p></li><li><p>b</p></li></ul>\n");
}

#[test]
fn a_definition_after_final_blocks_restarts_the_rendering() {
    let mut md = IncrementalMarkdown::new();
    let u = md.push("[a] is used first.\n\nThen more.\n\n");
    assert_eq!(u.finished.len(), 2);
    assert_eq!(u.finished[0], Block::Paragraph(vec![t("[a] is used first.")]));
    md.push("[a]: https://a.example\n");
    let f = md.finish();
    assert!(f.restart, "the first paragraph was final without the definition");
    assert_eq!(f.blocks, one_shot("[a] is used first.\n\nThen more.\n\n[a]: https://a.example\n"));
    assert!(matches!(&f.blocks[0], Block::Paragraph(p) if matches!(p[0], Inline::Link { .. })));
    // Defined before use: no restart.
    let mut md = IncrementalMarkdown::new();
    md.push("[a]: https://a.example\n\n[a] used.\n\nmore\n");
    assert!(!md.finish().restart);
}

#[test]
fn html_output_is_inert() {
    let html = render::to_html(&one_shot(
        "<script>alert(1)</script>\n\n[x](javascript:alert(1)) [y](JaVaScRiPt:alert(1)) [z](vbscript:x) \
         [w](data:text/html,<b>) <javascript:alert(1)> ![i](javascript:x) [ok](\"onclick=\"x)\n",
    ));
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.to_lowercase().contains("href=\"javascript"), "{html}");
    assert!(!html.contains("href=\"vbscript") && !html.contains("href=\"data"), "{html}");
    assert!(html.contains(r#"href="%22onclick=%22x""#), "{html}");
}

#[test]
fn tail_shows_no_half_fence_info_and_an_early_checkbox() {
    let mut md = IncrementalMarkdown::new();
    let u = md.push("Intro\n```ru");
    assert_eq!(u.tail, vec![Block::Paragraph(vec![t("Intro")])], "the fence line waits for its info string");
    let u = md.push("st\nfn");
    assert_eq!(u.finished, vec![Block::Paragraph(vec![t("Intro")])]);
    assert_eq!(u.tail, vec![Block::Code { lang: "rust".into(), code: "fn\n".into() }]);
    let mut md = IncrementalMarkdown::new();
    let u = md.push("- [x]");
    let Block::List { items, .. } = &u.tail[0] else { panic!("{:?}", u.tail) };
    assert_eq!(items[0].task, Some(true), "a checkbox as soon as the marker is complete");
}

#[test]
fn random_markup_streams_as_whole_and_never_panics() {
    // A deterministic pseudo-random property test: texts made of markup characters, split at random places,
    // render the same as whole (the spec suite covers the spec's examples; this covers their mixtures).
    const ALPHABET: &[&str] = &[
        "*",
        "_",
        "`",
        "[",
        "]",
        "(",
        ")",
        "!",
        "<",
        ">",
        "#",
        "-",
        "+",
        "1.",
        " ",
        "  ",
        "\n",
        "\n\n",
        "\t",
        "|",
        "~~",
        "\\",
        "&amp;",
        ":",
        "a",
        "b c",
        "[x] ",
        "```",
        "    ",
        "---",
        "===",
        "https://e.example/x",
        "é",
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |n: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33) as usize % n
    };
    for _ in 0..1500 {
        let len = 1 + next(40);
        let doc: String = (0..len).map(|_| ALPHABET[next(ALPHABET.len())]).collect();
        let whole = one_shot(&doc);
        let bounds: Vec<usize> = doc.char_indices().map(|(i, _)| i).chain([doc.len()]).collect();
        let mut pieces = Vec::new();
        let mut at = 0;
        while at + 1 < bounds.len() {
            let to = (at + 1 + next(6)).min(bounds.len() - 1);
            pieces.push(&doc[bounds[at]..bounds[to]]);
            at = to;
        }
        assert_eq!(streamed(&pieces), whole, "doc {doc:?} in pieces {pieces:?}");
        let _ = parse_blocks(&doc, true);
    }
}
