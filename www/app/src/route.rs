//! Screens by URL on the History API: the path is a signal, links to the app's own paths are followed without a
//! page load (a click on `<a href="/…">` is taken over), Back and Forward work (`popstate`), and `go` navigates
//! from code. `/` opens the newest thread, `/t/{id}` a thread, `/compare` and `/usage` their screens.

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// A screen of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    /// `/`
    Home,
    /// `/t/{id}`
    Thread(String),
    /// `/compare`
    Compare,
    /// `/usage`
    Usage,
    /// Anything else.
    NotFound,
}

impl Screen {
    /// The screen a path shows.
    pub fn of(path: &str) -> Self {
        match path.trim_end_matches('/') {
            "" => Self::Home,
            "/compare" => Self::Compare,
            "/usage" => Self::Usage,
            p => match p.strip_prefix("/t/") {
                Some(id) if !id.is_empty() && !id.contains('/') => Self::Thread(id.to_string()),
                _ => Self::NotFound,
            },
        }
    }
}

/// The current path (context); [`Nav::go`] changes it.
#[derive(Clone, Copy)]
pub struct Nav {
    path: RwSignal<String>,
}

/// The router's context.
pub fn use_nav() -> Nav {
    expect_context::<Nav>()
}

fn pathname() -> String {
    window().location().pathname().unwrap_or_else(|_| "/".into())
}

impl Nav {
    /// Starts following the URL (Back/Forward, clicks on the app's own links) and provides the context.
    pub fn provide() -> Self {
        let nav = Self { path: RwSignal::new(pathname()) };
        let back = window_event_listener(ev::popstate, move |_| nav.path.set(pathname()));
        let links = window_event_listener(ev::click, move |e| nav.follow(&e));
        on_cleanup(move || {
            back.remove();
            links.remove();
        });
        provide_context(nav);
        nav
    }

    /// The screen shown (tracked).
    pub fn screen(&self) -> Screen {
        self.path.with(|p| Screen::of(p))
    }

    /// The path shown (tracked).
    pub fn path(&self) -> String {
        self.path.get()
    }

    /// Shows `to` (a path of the app), replacing the current history entry with `replace`.
    pub fn go(&self, to: &str, replace: bool) {
        if let Ok(h) = window().history() {
            let _ = if replace {
                h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(to))
            } else {
                h.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(to))
            };
        }
        self.path.set(to.to_string());
    }

    /// A plain left click on a link to one of the app's paths: shown here instead of loaded.
    fn follow(&self, e: &web_sys::MouseEvent) {
        if e.default_prevented() || e.button() != 0 || e.ctrl_key() || e.meta_key() || e.shift_key() || e.alt_key() {
            return;
        }
        let link = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|t| t.closest("a[href]").ok().flatten());
        let Some(a) = link.and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok()) else { return };
        let same_origin = a.origin() == window().location().origin().unwrap_or_default();
        if !same_origin
            || !a.target().is_empty()
            || a.has_attribute("download")
            || Screen::of(&a.pathname()) == Screen::NotFound
        {
            return;
        }
        e.prevent_default();
        self.go(&a.pathname(), false);
    }
}

#[cfg(test)]
mod tests {
    use super::Screen;

    #[test]
    fn paths_name_screens() {
        assert_eq!(Screen::of("/"), Screen::Home);
        assert_eq!(Screen::of(""), Screen::Home);
        assert_eq!(Screen::of("/t/abc-1"), Screen::Thread("abc-1".into()));
        assert_eq!(Screen::of("/compare"), Screen::Compare);
        assert_eq!(Screen::of("/usage/"), Screen::Usage);
        assert_eq!(Screen::of("/t/"), Screen::NotFound);
        assert_eq!(Screen::of("/t/a/b"), Screen::NotFound);
        assert_eq!(Screen::of("/nope"), Screen::NotFound);
    }
}
