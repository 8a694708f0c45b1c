//! The bring-your-own-key form (the `byok` variant).

use edgechat::provider::ProviderKind;
use web_sys::{Document, Element};

use super::{add, attr, button, set, set_value, text, toggle_attr, value, Strings, Ui, S};
use crate::byok::ByokSettings;
use crate::state::State;

pub(super) struct Dom {
    forget: Element,
}

impl Dom {
    pub(super) fn build(doc: &Document, section: &Element, t: &Strings) -> Self {
        let d = add(doc, section, "details", "ec-byok");
        text(doc, &d, "summary", "", t.get(S::ByokTitle));
        text(doc, &d, "p", "ec-warn", t.get(S::ByokWarning));
        let field = |label: S, tag: &str, class: &str| {
            let l = text(doc, &d, "label", "", &[t.get(label), " "].concat());
            add(doc, &l, tag, class)
        };
        let provider = field(S::ByokProvider, "select", "ec-byok-provider");
        for (v, l) in [
            ("openai-chat", "OpenAI Chat"),
            ("openai-responses", "OpenAI Responses"),
            ("anthropic", "Anthropic"),
            ("openai-compatible", "OpenAI-compatible"),
        ] {
            attr(&text(doc, &provider, "option", "", l), "value", v);
        }
        let base = field(S::ByokBaseUrl, "input", "ec-byok-base");
        set(&base, &[("type", "url"), ("placeholder", t.get(S::ByokBaseUrlHint))]);
        set(&field(S::ByokModel, "input", "ec-byok-model"), &[("type", "text"), ("placeholder", "gpt-4o-mini")]);
        set(&field(S::ByokKey, "input", "ec-byok-key"), &[("type", "password"), ("autocomplete", "off")]);
        let row = add(doc, &d, "div", "ec-row");
        button(doc, &row, "ec-btn ec-byok-use", t.get(S::ByokUse));
        let forget = button(doc, &row, "ec-btn ec-byok-forget", t.get(S::ByokForget));
        Self { forget }
    }

    pub(super) fn render(&self, s: &State) {
        toggle_attr(&self.forget, "disabled", s.byok.is_none());
    }
}

/// A click on a button of the form (its `class`); `false` when it is none of them.
pub(super) fn on_click(ui: &Ui, class: &str) -> bool {
    if class == "ec-byok-forget" {
        ui.chat.set_byok(None);
        return true;
    }
    if class != "ec-byok-use" {
        return false;
    }
    let Some(p) = ui.panel.borrow().as_ref().map(|p| p.section.clone()) else { return true };
    let field = |c: &str| super::find(&p, "querySelector", c);
    let read = |c: &str| field(c).map(|e| value(&e)).unwrap_or_default();
    let kind = field(".ec-byok-provider").map(|e| value(&e));
    let kind: ProviderKind = kind.and_then(|k| k.parse().ok()).unwrap_or(ProviderKind::OpenAiChat);
    let s = ByokSettings {
        provider: kind,
        base_url: read(".ec-byok-base"),
        model: read(".ec-byok-model"),
        api_key: read(".ec-byok-key"),
    };
    if s.model.trim().is_empty() || s.api_key.trim().is_empty() && kind != ProviderKind::OpenAiCompatible {
        return true;
    }
    if let Some(k) = field(".ec-byok-key") {
        set_value(&k, "");
    }
    ui.chat.set_byok(Some(s));
    true
}
