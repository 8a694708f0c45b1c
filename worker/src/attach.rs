//! Attachments at the edge (images, PDFs): what a model takes (`vision`, `documents`), the limits
//! (`max_attachments`, `max_attachment_bytes`, `attachment_types`), and reading the files out of the SDK routes'
//! bodies (each format's content parts) for the same checks and for translation into core [`Attachment`]s.
//!
//! The edge never fetches a URL: an attachment by URL must be `https://`, and the provider fetches it. Its type
//! cannot be known without fetching, so the type allow-list applies to files sent as bytes.

use edgechat::conversation::{Attachment, AttachmentKind, Message};
use serde_json::{Map, Value};

use crate::compat::Format;
use crate::config::{Limits, ModelEntry, SiteKey};
use crate::error::ApiError;

/// The attachment limits for one request: the global `limits`, tightened by the site key's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachLimits {
    /// Most files per request (over all its turns: every request carries the whole conversation).
    pub max_attachments: usize,
    /// Largest file, decoded bytes.
    pub max_attachment_bytes: u64,
    /// MIME types allowed for files sent as bytes.
    pub types: Vec<String>,
}

impl AttachLimits {
    /// The global limits, each tightened by `site`'s value when it sets one (a site key can only lower them).
    pub fn of(limits: &Limits, site: Option<&SiteKey>) -> Self {
        let mut l = Self {
            max_attachments: limits.max_attachments,
            max_attachment_bytes: limits.max_attachment_bytes,
            types: limits.attachment_types.clone(),
        };
        if let Some(s) = site {
            if let Some(n) = s.max_attachments {
                l.max_attachments = l.max_attachments.min(n);
            }
            if let Some(n) = s.max_attachment_bytes {
                l.max_attachment_bytes = l.max_attachment_bytes.min(n);
            }
            if let Some(t) = &s.attachment_types {
                l.types.retain(|x| t.contains(x));
            }
        }
        l
    }
}

/// Whether a known model takes images and PDFs (the defaults of `vision` and `documents`): the OpenAI and
/// Anthropic models of the built-in price table, except the text-only `o3-mini`; `claude-3-haiku` reads no PDFs.
/// A model of an OpenAI-compatible server takes neither unless configured.
pub fn default_caps(provider: edgechat::provider::ProviderKind, model: &str) -> (bool, bool) {
    if provider == edgechat::provider::ProviderKind::OpenAiCompatible
        || edgechat::cost::PricingTable::builtin().get(model).is_none()
        || model.starts_with("o3-mini")
    {
        return (false, false);
    }
    (true, !model.starts_with("claude-3-haiku"))
}

/// One file a request carries, as far as the checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// Where it is in the body (`messages[0].attachments[1]`, `messages[0].content[2]`).
    pub path: String,
    /// Image or document.
    pub kind: AttachmentKind,
    /// MIME type (empty for a URL: unknown).
    pub media_type: String,
    /// Decoded size (0 for a URL).
    pub bytes: u64,
}

/// The files of core messages (the widget route), each passing [`Attachment::check`].
pub fn seen_in(messages: &[Message]) -> Result<Vec<Seen>, ApiError> {
    let mut out = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        for (j, a) in m.attachments.iter().enumerate() {
            let path = format!("messages[{i}].attachments[{j}]");
            a.check().map_err(|e| invalid(&path, &e))?;
            let media_type = if a.url.is_some() { String::new() } else { a.media_type.clone() };
            out.push(Seen { path, kind: a.kind, media_type, bytes: a.byte_len() });
        }
    }
    Ok(out)
}

fn invalid(path: &str, why: &str) -> ApiError {
    refuse(path, "invalid_attachment", format!("{path}: {why}"))
}

/// A `400` of `kind` about the file at `path`; `param` names the body's field it is in.
fn refuse(path: &str, kind: &'static str, message: String) -> ApiError {
    let mut e = ApiError::bad_request(message).with_kind(kind);
    e.param = Some(if path.starts_with("input") { "input" } else { "messages" });
    e
}

/// Checks the files of a request for model `alias` against its capabilities and the limits.
pub fn check(limits: &AttachLimits, alias: &str, entry: &ModelEntry, seen: &[Seen]) -> Result<(), ApiError> {
    if seen.is_empty() {
        return Ok(());
    }
    if seen.len() > limits.max_attachments {
        let m = format!(
            "the request carries {} attachments; at most {} are allowed (max_attachments)",
            seen.len(),
            limits.max_attachments
        );
        return Err(refuse(&seen[0].path, "too_many_attachments", m));
    }
    for s in seen {
        let (able, what, cap) = match s.kind {
            AttachmentKind::Image => (entry.vision, "images", "vision"),
            AttachmentKind::Document => (entry.documents, "documents", "documents"),
        };
        if !able {
            let m = format!(
                "{}: model {alias:?} does not take {what} ({cap} is off for it); choose a model with {cap}",
                s.path
            );
            return Err(refuse(&s.path, "attachment_not_supported", m));
        }
        if !s.media_type.is_empty() && !limits.types.iter().any(|t| t == &s.media_type) {
            let allowed = limits.types.join(", ");
            let m = format!("{}: type {:?} is not allowed here (attachment_types: {allowed})", s.path, s.media_type);
            return Err(refuse(&s.path, "attachment_type_not_allowed", m));
        }
        if s.bytes > limits.max_attachment_bytes {
            let max = limits.max_attachment_bytes;
            let m =
                format!("{}: the file has {} bytes; at most {max} are allowed (max_attachment_bytes)", s.path, s.bytes);
            return Err(refuse(&s.path, "attachment_too_large", m));
        }
    }
    Ok(())
}

/// Reads a `data:<type>;base64,<data>` URL (the OpenAI formats' bytes) into its type and data.
fn data_url(s: &str) -> Option<(&str, &str)> {
    let rest = s.strip_prefix("data:")?;
    let (mt, data) = rest.split_once(',')?;
    Some((mt.strip_suffix(";base64")?, data))
}

/// A file part of an SDK route's body as a core attachment; `url_or_data` is an OpenAI-style `data:` URL or an
/// https URL. Errors name `path`.
fn from_url_or_data(
    kind: AttachmentKind,
    url_or_data: &str,
    name: Option<&str>,
    path: &str,
) -> Result<Attachment, ApiError> {
    let mut a = if url_or_data.starts_with("data:") {
        let (mt, data) =
            data_url(url_or_data).ok_or_else(|| invalid(path, "a data: URL must be data:<type>;base64,<data>"))?;
        Attachment::from_data(kind, mt, data)
    } else {
        // The type of a file by URL is the provider's to find out; the core needs one of its kind.
        let guess = match kind {
            AttachmentKind::Image => guess_image_type(url_or_data),
            AttachmentKind::Document => "application/pdf",
        };
        Attachment::from_url(kind, guess, url_or_data)
    };
    a.name = name.map(str::to_string);
    a.check().map_err(|e| invalid(path, &e))?;
    Ok(a)
}

fn guess_image_type(url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    if path.ends_with(".png") {
        "image/png"
    } else if path.ends_with(".gif") {
        "image/gif"
    } else if path.ends_with(".webp") {
        "image/webp"
    } else {
        "image/jpeg"
    }
}

fn str_at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter().try_fold(v, |v, k| v.get(*k))?.as_str()
}

/// One content part of an SDK route's body as a core attachment: `Ok(None)` when it is not a file part
/// (text, tool blocks). OpenAI Chat `image_url` / `file`, Responses `input_image` / `input_file`, Anthropic
/// `image` / `document` (`base64` or `url` source). A file by id (`file_id`, Anthropic `file` source) cannot
/// be translated or checked here: refused.
pub fn part_to_attachment(format: Format, part: &Value, path: &str) -> Result<Option<Attachment>, ApiError> {
    let ty = part.get("type").and_then(Value::as_str).unwrap_or_default();
    let need = |what: &str| invalid(path, &format!("{ty} part needs {what}"));
    let by_id = || invalid(path, "files by id cannot pass this edge; send the bytes or an https URL");
    let a = match (format, ty) {
        (Format::OpenAiChat, "image_url") => {
            let url = str_at(part, &["image_url", "url"]).ok_or_else(|| need("image_url.url"))?;
            from_url_or_data(AttachmentKind::Image, url, None, path)?
        }
        (Format::OpenAiChat, "file") => {
            if part.get("file").and_then(|f| f.get("file_id")).is_some() {
                return Err(by_id());
            }
            let data = str_at(part, &["file", "file_data"]).ok_or_else(|| need("file.file_data"))?;
            from_url_or_data(AttachmentKind::Document, data, str_at(part, &["file", "filename"]), path)?
        }
        (Format::OpenAiResponses, "input_image") => {
            let url = str_at(part, &["image_url"]).ok_or_else(by_id)?;
            from_url_or_data(AttachmentKind::Image, url, None, path)?
        }
        (Format::OpenAiResponses, "input_file") => {
            let data = str_at(part, &["file_data"]).or_else(|| str_at(part, &["file_url"])).ok_or_else(by_id)?;
            from_url_or_data(AttachmentKind::Document, data, str_at(part, &["filename"]), path)?
        }
        (Format::Anthropic, "image" | "document") => {
            let kind = if ty == "image" { AttachmentKind::Image } else { AttachmentKind::Document };
            let source = part.get("source").ok_or_else(|| need("a source"))?;
            let mut a = match source.get("type").and_then(Value::as_str) {
                Some("base64") => Attachment::from_data(
                    kind,
                    str_at(source, &["media_type"]).ok_or_else(|| need("source.media_type"))?,
                    str_at(source, &["data"]).ok_or_else(|| need("source.data"))?,
                ),
                Some("url") => {
                    let url = str_at(source, &["url"]).ok_or_else(|| need("source.url"))?;
                    from_url_or_data(kind, url, None, path)?
                }
                Some("file") => return Err(by_id()),
                _ => {
                    return Err(invalid(
                        path,
                        "source.type must be \"base64\" or \"url\" (text sources cannot be checked)",
                    ))
                }
            };
            a.name = str_at(part, &["title"]).map(str::to_string);
            a.check().map_err(|e| invalid(path, &e))?;
            a
        }
        _ => return Ok(None),
    };
    Ok(Some(a))
}

/// The files of an SDK route's body, each read with [`part_to_attachment`] (so each is well formed), and their
/// estimated tokens.
pub fn seen_in_body(format: Format, body: &Map<String, Value>) -> Result<(Vec<Seen>, u64), ApiError> {
    let (turns, field) = match format {
        Format::OpenAiResponses => (body.get("input"), "input"),
        _ => (body.get("messages"), "messages"),
    };
    let mut out = Vec::new();
    let mut tokens = 0;
    let Some(Value::Array(turns)) = turns else { return Ok((out, 0)) };
    for (i, t) in turns.iter().enumerate() {
        let Some(Value::Array(parts)) = t.get("content") else { continue };
        for (j, p) in parts.iter().enumerate() {
            let path = format!("{field}[{i}].content[{j}]");
            if let Some(a) = part_to_attachment(format, p, &path)? {
                tokens += edgechat::conversation::estimate_attachment_tokens(&a);
                let media_type = if a.url.is_some() { String::new() } else { a.media_type.clone() };
                out.push(Seen { path, kind: a.kind, media_type, bytes: a.byte_len() });
            }
        }
    }
    Ok((out, tokens))
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgechat::provider::ProviderKind;

    fn entry(vision: bool, documents: bool) -> ModelEntry {
        let (provider, model) = (ProviderKind::OpenAiChat, "gpt-4o-mini".to_string());
        ModelEntry {
            provider,
            model,
            label: None,
            fallback: Vec::new(),
            instructions: None,
            context_tokens: None,
            summarize: None,
            provider_rpm: 0,
            provider_tpm: 0,
            vision,
            documents,
        }
    }

    fn limits() -> AttachLimits {
        AttachLimits::of(&Limits { max_attachments: 2, max_attachment_bytes: 10, ..Limits::default() }, None)
    }

    fn seen(kind: AttachmentKind, media_type: &str, bytes: u64) -> Seen {
        Seen { path: "messages[0].attachments[0]".into(), kind, media_type: media_type.into(), bytes }
    }

    #[test]
    fn known_models_see_and_read_and_the_local_one_does_neither() {
        assert_eq!(default_caps(ProviderKind::OpenAiChat, "gpt-4o-mini"), (true, true));
        assert_eq!(default_caps(ProviderKind::Anthropic, "claude-sonnet-4-5"), (true, true));
        assert_eq!(default_caps(ProviderKind::Anthropic, "claude-3-haiku-20240307"), (true, false));
        assert_eq!(default_caps(ProviderKind::OpenAiChat, "o3-mini"), (false, false));
        assert_eq!(default_caps(ProviderKind::OpenAiCompatible, "gpt-4o-mini"), (false, false));
        assert_eq!(default_caps(ProviderKind::OpenAiChat, "my-fine-tune"), (false, false));
    }

    #[test]
    fn each_refusal_names_its_kind() {
        let img = seen(AttachmentKind::Image, "image/png", 5);
        let kind = |e: &ModelEntry, s: &[Seen]| check(&limits(), "fast", e, s).unwrap_err().kind;
        assert_eq!(check(&limits(), "fast", &entry(true, false), std::slice::from_ref(&img)), Ok(()));
        assert_eq!(kind(&entry(false, true), std::slice::from_ref(&img)), "attachment_not_supported");
        let pdf = seen(AttachmentKind::Document, "application/pdf", 5);
        assert_eq!(kind(&entry(true, false), &[pdf]), "attachment_not_supported");
        assert_eq!(kind(&entry(true, true), &[img.clone(), img.clone(), img.clone()]), "too_many_attachments");
        assert_eq!(kind(&entry(true, true), &[seen(AttachmentKind::Image, "image/png", 11)]), "attachment_too_large");
        let site = SiteKey {
            origins: vec!["*".into()],
            allow_no_origin: false,
            require_session: false,
            instructions: None,
            cache_per_subject: false,
            client_tools: None,
            max_attachments: Some(9),
            max_attachment_bytes: None,
            attachment_types: Some(vec!["image/jpeg".into(), "image/x-made-up".into()]),
        };
        let tight = AttachLimits::of(&Limits { max_attachments: 2, ..Limits::default() }, Some(&site));
        assert_eq!((tight.max_attachments, tight.types.clone()), (2, vec!["image/jpeg".to_string()]), "only tighter");
        let e = check(&tight, "fast", &entry(true, true), &[img]).unwrap_err();
        assert_eq!(e.kind, "attachment_type_not_allowed");
        assert!(e.message.contains("messages[0].attachments[0]") && e.message.contains("image/png"), "{}", e.message);
    }

    #[test]
    fn reads_every_formats_file_parts() {
        let part =
            |f, v: Value| part_to_attachment(f, &v, "p").map(|a| a.map(|a| (a.kind, a.media_type, a.data, a.url)));
        let data = Some("AAAA".to_string());
        assert_eq!(
            part(
                Format::OpenAiChat,
                serde_json::json!({"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}})
            ),
            Ok(Some((AttachmentKind::Image, "image/png".into(), data.clone(), None)))
        );
        assert_eq!(
            part(
                Format::OpenAiResponses,
                serde_json::json!({"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,AAAA"})
            ),
            Ok(Some((AttachmentKind::Document, "application/pdf".into(), data.clone(), None)))
        );
        assert_eq!(
            part(
                Format::Anthropic,
                serde_json::json!({"type":"image","source":{"type":"url","url":"https://x.example/a.webp"}})
            ),
            Ok(Some((AttachmentKind::Image, "image/webp".into(), None, Some("https://x.example/a.webp".into()))))
        );
        assert_eq!(part(Format::Anthropic, serde_json::json!({"type":"text","text":"x"})), Ok(None));
        let err = |f, v: Value| part_to_attachment(f, &v, "p").unwrap_err();
        assert_eq!(
            err(Format::OpenAiChat, serde_json::json!({"type":"image_url","image_url":{"url":"http://x/a.png"}})).kind,
            "invalid_attachment"
        );
        assert!(err(Format::Anthropic, serde_json::json!({"type":"image","source":{"type":"file","file_id":"f"}}))
            .message
            .contains("by id"));
        assert!(err(Format::OpenAiChat, serde_json::json!({"type":"image_url"})).message.contains("image_url.url"));
    }
}
