//! Attachments (images, PDFs) in every provider's request body, checked against the exact content-part shapes of
//! the official API references:
//! - OpenAI Chat Completions, `messages[].content[]`: `{"type":"image_url","image_url":{"url"}}` and
//!   `{"type":"file","file":{"filename","file_data"}}` (openai-python `ChatCompletionContentPartImageParam`,
//!   `File`);
//! - OpenAI Responses, `input[].content[]`: `{"type":"input_image","image_url","detail"}` (`detail` is required
//!   in `ResponseInputImageParam`) and `{"type":"input_file","filename","file_data"|"file_url"}`;
//! - Anthropic Messages: `{"type":"image"|"document","source":{"type":"base64","media_type","data"}}` or
//!   `"source":{"type":"url","url"}` (anthropic-sdk `ImageBlockParam`, `DocumentBlockParam`).
#![cfg(not(target_arch = "wasm32"))]

use edgechat::conversation::{
    estimate_message_tokens, Attachment, AttachmentKind, Conversation, ConversationError, Message, IMAGE_UNKNOWN_TOKENS,
};
use edgechat::cost::PricingTable;
use edgechat::provider::{build_request, ChatRequest, ProviderConfig, ProviderKind};
use edgechat::Usage;
use serde_json::{json, Value};

const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==";
const PDF: &str = "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCg==";

fn config(kind: ProviderKind) -> ProviderConfig {
    let key = (kind != ProviderKind::OpenAiCompatible).then(|| "sk-test-0000".to_string());
    ProviderConfig { kind, base_url: String::new(), api_key: key, extra_headers: Vec::new() }
}

fn png() -> Attachment {
    Attachment { width: Some(1), height: Some(1), ..Attachment::from_data(AttachmentKind::Image, "image/png", PNG) }
}

fn pdf() -> Attachment {
    Attachment {
        name: Some("report.pdf".into()),
        ..Attachment::from_data(AttachmentKind::Document, "application/pdf", PDF)
    }
}

fn image_url() -> Attachment {
    Attachment::from_url(AttachmentKind::Image, "image/jpeg", "https://img.example/cat.jpg")
}

fn pdf_url() -> Attachment {
    Attachment::from_url(AttachmentKind::Document, "application/pdf", "https://docs.example/a.pdf")
}

fn request(attachments: Vec<Attachment>) -> ChatRequest {
    ChatRequest::new(
        "m",
        vec![Message::user_with("What is this?", attachments), Message::assistant("A cat."), Message::user("Sure?")],
    )
}

fn body(kind: ProviderKind, req: &ChatRequest) -> Value {
    let r = build_request(&config(kind), req).unwrap_or_else(|e| panic!("{kind}: {e}"));
    serde_json::from_slice(&r.body).unwrap()
}

#[test]
fn openai_chat_image_url_and_file_parts() {
    for kind in [ProviderKind::OpenAiChat, ProviderKind::OpenAiCompatible] {
        let b = body(kind, &request(vec![png(), image_url(), pdf()]));
        assert_eq!(
            b["messages"][0],
            json!({"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{PNG}")}},
                {"type": "image_url", "image_url": {"url": "https://img.example/cat.jpg"}},
                {"type": "file", "file": {"filename": "report.pdf", "file_data": format!("data:application/pdf;base64,{PDF}")}},
                {"type": "text", "text": "What is this?"},
            ]}),
            "{kind}"
        );
        assert_eq!(b["messages"][2], json!({"role": "user", "content": "Sure?"}), "a turn without files stays text");
    }
    let e = build_request(&config(ProviderKind::OpenAiChat), &request(vec![pdf_url()])).unwrap_err();
    assert!(e.message.contains("not by URL"), "{e}");
}

#[test]
fn openai_responses_input_image_and_input_file_parts() {
    let b = body(ProviderKind::OpenAiResponses, &request(vec![png(), image_url(), pdf(), pdf_url()]));
    assert_eq!(
        b["input"][0],
        json!({"type": "message", "role": "user", "content": [
            {"type": "input_image", "image_url": format!("data:image/png;base64,{PNG}"), "detail": "auto"},
            {"type": "input_image", "image_url": "https://img.example/cat.jpg", "detail": "auto"},
            {"type": "input_file", "filename": "report.pdf", "file_data": format!("data:application/pdf;base64,{PDF}")},
            {"type": "input_file", "filename": "document.pdf", "file_url": "https://docs.example/a.pdf"},
            {"type": "input_text", "text": "What is this?"},
        ]})
    );
    assert_eq!(b["input"][2], json!({"type": "message", "role": "user", "content": "Sure?"}));
}

#[test]
fn anthropic_image_and_document_blocks_with_base64_and_url_sources() {
    let b = body(ProviderKind::Anthropic, &request(vec![png(), image_url(), pdf(), pdf_url()]));
    assert_eq!(
        b["messages"][0],
        json!({"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            {"type": "image", "source": {"type": "url", "url": "https://img.example/cat.jpg"}},
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF}, "title": "report.pdf"},
            {"type": "document", "source": {"type": "url", "url": "https://docs.example/a.pdf"}},
            {"type": "text", "text": "What is this?"},
        ]})
    );
    // A turn of files only is fine; the prompt-cache breakpoint can land on a file block.
    let mut only = ChatRequest::new(
        "m",
        vec![Message::user_with("", vec![png()]), Message::assistant("A dot."), Message::user("Ok")],
    );
    only.prompt_cache = true;
    let b = body(ProviderKind::Anthropic, &only);
    assert_eq!(b["messages"][0]["content"].as_array().unwrap().len(), 1);
    assert_eq!(b["messages"][1]["content"][0]["cache_control"], json!({"type": "ephemeral"}));
}

#[test]
fn every_builder_refuses_a_malformed_or_misplaced_attachment() {
    let bad = [
        Attachment::from_data(AttachmentKind::Image, "image/png", "data:image/png;base64,AAAA"),
        Attachment::from_url(AttachmentKind::Image, "image/png", "http://img.example/a.png"),
        Attachment::from_data(AttachmentKind::Image, "image/svg+xml", "AAAA"),
        Attachment::from_data(AttachmentKind::Document, "text/html", "AAAA"),
    ];
    for kind in [ProviderKind::OpenAiChat, ProviderKind::OpenAiResponses, ProviderKind::Anthropic] {
        for a in &bad {
            let e = build_request(&config(kind), &request(vec![a.clone()])).unwrap_err();
            assert!(e.message.contains("attachment 0"), "{kind}: {e}");
        }
        let mut misplaced = request(vec![]);
        misplaced.messages[1].attachments.push(png());
        let e = build_request(&config(kind), &misplaced).unwrap_err();
        assert!(e.message.contains("only user turns"), "{kind}: {e}");
    }
}

#[test]
fn history_accepts_a_file_only_turn_and_refuses_bad_files() {
    let mut c = Conversation::new();
    c.push(Message::user_with("", vec![png()])).unwrap();
    assert_eq!(c.push(Message::user("")).unwrap_err(), ConversationError::EmptyUserMessage);
    let mut c = Conversation::new();
    let e = c.push(Message::user_with("x", vec![Attachment::from_url(AttachmentKind::Image, "image/png", "ftp://a")]));
    assert!(matches!(e, Err(ConversationError::InvalidAttachment { index: 0, .. })), "{e:?}");
    let e = c.push(Message { attachments: vec![png()], ..Message::assistant("x") });
    assert!(matches!(e, Err(ConversationError::MisplacedField { field: "attachments", .. })), "{e:?}");
}

#[test]
fn stored_histories_without_attachments_read_and_write_as_before() {
    let old = r#"{"messages":[{"role":"user","content":"Hi"}]}"#;
    let c: Conversation = serde_json::from_str(old).unwrap();
    assert!(c.messages[0].attachments.is_empty());
    assert_eq!(serde_json::to_string(&c).unwrap(), old);
    let with = Message::user_with("x", vec![image_url()]);
    let v = serde_json::to_value(&with).unwrap();
    assert_eq!(
        v["attachments"],
        json!([{"kind": "image", "media_type": "image/jpeg", "url": "https://img.example/cat.jpg"}])
    );
    assert_eq!(serde_json::from_value::<Message>(v).unwrap(), with);
}

#[test]
fn images_are_estimated_and_priced_as_input_tokens() {
    let text = estimate_message_tokens(&Message::user("What is this?"));
    let sized = Attachment { width: Some(1000), height: Some(1000), ..png() };
    assert_eq!(estimate_message_tokens(&Message::user_with("What is this?", vec![sized])), text + 1334);
    let unknown = Attachment { width: None, height: None, ..png() };
    let est = estimate_message_tokens(&Message::user_with("What is this?", vec![unknown]));
    assert_eq!(est, text + IMAGE_UNKNOWN_TOKENS);
    assert_eq!(estimate_message_tokens(&Message::user_with("", vec![pdf()])), 4 + 3_000, "one page");
    let price = PricingTable::builtin();
    let cost = |n| price.cost("gpt-4o-mini", &Usage { input_tokens: n, ..Usage::default() }).unwrap();
    assert!(cost(est) > cost(text) * 10.0, "the image's tokens are billed as input");
}
