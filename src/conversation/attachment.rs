//! Files a user turn carries besides its text: images and PDF documents, as base64 bytes or an `https` URL.
//!
//! A [`Message`](super::Message) keeps its text in `content`; its [`Attachment`]s sit beside it
//! (`attachments`, omitted when empty, so histories saved before attachments existed read as they were). Each
//! provider's request builder turns them into its own content parts:
//! - OpenAI Chat Completions (and OpenAI-compatible servers): `{"type":"image_url","image_url":{"url":…}}` (a
//!   `data:` URL for bytes) and `{"type":"file","file":{"filename":…,"file_data":"data:application/pdf;base64,…"}}`
//!   (Chat Completions takes no file by URL: such a request is refused);
//! - OpenAI Responses: `{"type":"input_image","image_url":…,"detail":"auto"}` and
//!   `{"type":"input_file","filename":…,"file_data":…}` or `{"type":"input_file","file_url":…}`;
//! - Anthropic Messages: `{"type":"image"|"document","source":{"type":"base64","media_type":…,"data":…}}` or
//!   `"source":{"type":"url","url":…}`.
//!
//! The parts go before the turn's text (Anthropic's advice for images; the OpenAI APIs read either order).

use serde::{Deserialize, Serialize};

/// Image types every supported provider accepts (OpenAI and Anthropic both take these four).
pub const IMAGE_TYPES: &[&str] = &["image/jpeg", "image/png", "image/gif", "image/webp"];
/// Document types every supported provider accepts as a file part.
pub const DOCUMENT_TYPES: &[&str] = &["application/pdf"];

/// What an attachment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttachmentKind {
    /// A picture the model looks at (needs a vision model).
    Image,
    /// A PDF the model reads (needs a model that takes documents).
    Document,
}

impl AttachmentKind {
    /// The serde name (`image`, `document`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Document => "document",
        }
    }
}

/// One file of a user turn. Exactly one of `data` and `url` is set ([`Attachment::check`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Image or document.
    pub kind: AttachmentKind,
    /// MIME type (`image/png`, `application/pdf`, …): one of [`IMAGE_TYPES`] or [`DOCUMENT_TYPES`].
    pub media_type: String,
    /// File name, shown and sent where the provider takes one (documents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The bytes, standard base64 (no `data:` prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Or where the provider fetches it: an `https` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Image width in pixels, when known (for the token estimate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Image height in pixels, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

/// Where an attachment's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    /// Base64 bytes.
    Data(&'a str),
    /// An `https` URL.
    Url(&'a str),
}

impl Attachment {
    /// An attachment of `kind` from base64 `data`.
    pub fn from_data(kind: AttachmentKind, media_type: impl Into<String>, data: impl Into<String>) -> Self {
        Self {
            kind,
            media_type: media_type.into(),
            name: None,
            data: Some(data.into()),
            url: None,
            width: None,
            height: None,
        }
    }

    /// An attachment of `kind` at an `https` `url`.
    pub fn from_url(kind: AttachmentKind, media_type: impl Into<String>, url: impl Into<String>) -> Self {
        Self { data: None, url: Some(url.into()), ..Self::from_data(kind, media_type, "") }
    }

    /// Where the bytes are (`data` wins when, against [`Attachment::check`], both are set).
    pub fn source(&self) -> Source<'_> {
        match (&self.data, &self.url) {
            (Some(d), _) => Source::Data(d),
            (None, Some(u)) => Source::Url(u),
            (None, None) => Source::Data(""),
        }
    }

    /// The bytes as a `data:` URL, or the URL.
    pub fn url_or_data_url(&self) -> String {
        match self.source() {
            Source::Data(d) => format!("data:{};base64,{d}", self.media_type),
            Source::Url(u) => u.to_owned(),
        }
    }

    /// The size of the decoded bytes (0 for a URL).
    pub fn byte_len(&self) -> u64 {
        match self.source() {
            Source::Data(d) => {
                let d = d.trim_end_matches('=');
                (d.len() as u64 * 3) / 4
            }
            Source::Url(_) => 0,
        }
    }

    /// The name to send where a provider needs one.
    pub fn file_name(&self) -> &str {
        self.name.as_deref().filter(|n| !n.is_empty()).unwrap_or(match self.kind {
            AttachmentKind::Image => "image",
            AttachmentKind::Document => "document.pdf",
        })
    }

    /// Checks what every provider requires: a known type that matches the kind, exactly one of `data` (standard
    /// base64) and `url` (`https://` only: no `http`, no `data:` URL in this field). The message says which rule.
    pub fn check(&self) -> Result<(), String> {
        let allowed = match self.kind {
            AttachmentKind::Image => IMAGE_TYPES,
            AttachmentKind::Document => DOCUMENT_TYPES,
        };
        if !allowed.contains(&self.media_type.as_str()) {
            return Err(format!(
                "media_type {:?} is not a supported {} type ({})",
                self.media_type,
                self.kind.as_str(),
                allowed.join(", ")
            ));
        }
        match (&self.data, &self.url) {
            (Some(_), Some(_)) => Err("set either data or url, not both".into()),
            (None, None) => Err("data or url is required".into()),
            (Some(d), None) => {
                let body = d.trim_end_matches('=');
                let ok = !d.is_empty()
                    && d.len() - body.len() <= 2
                    && d.len() % 4 == 0
                    && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
                if ok {
                    Ok(())
                } else {
                    Err("data must be standard base64 (no data: prefix, no line breaks)".into())
                }
            }
            (None, Some(u)) => {
                let host = u.strip_prefix("https://").unwrap_or_default();
                if host.is_empty() || host.starts_with('/') || u.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    Err("url must be an https:// URL (send the bytes as data instead)".into())
                } else {
                    Ok(())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_type_source_and_encoding() {
        let png = Attachment::from_data(AttachmentKind::Image, "image/png", "iVBORw0KGgo=");
        assert_eq!(png.check(), Ok(()));
        assert_eq!(png.byte_len(), 8);
        assert_eq!(png.url_or_data_url(), "data:image/png;base64,iVBORw0KGgo=");
        let bad = |a: Attachment| a.check().unwrap_err();
        assert!(bad(Attachment::from_data(AttachmentKind::Image, "image/tiff", "AAAA")).contains("image/tiff"));
        assert!(bad(Attachment::from_data(AttachmentKind::Document, "image/png", "AAAA")).contains("document"));
        assert!(bad(Attachment::from_data(AttachmentKind::Image, "image/png", "data:image/png;base64,AAAA"))
            .contains("base64"));
        assert!(bad(Attachment::from_data(AttachmentKind::Image, "image/png", "AAA")).contains("base64"));
        assert!(bad(Attachment::from_url(AttachmentKind::Image, "image/png", "http://x/a.png")).contains("https"));
        assert!(bad(Attachment::from_url(AttachmentKind::Image, "image/png", "data:image/png;base64,AAAA"))
            .contains("https"));
        let both = Attachment { url: Some("https://x/a.png".into()), ..png.clone() };
        assert!(bad(both).contains("not both"));
        let url = Attachment::from_url(AttachmentKind::Document, "application/pdf", "https://x.example/a.pdf");
        assert_eq!((url.check(), url.source()), (Ok(()), Source::Url("https://x.example/a.pdf")));
        assert_eq!(url.file_name(), "document.pdf");
    }
}
