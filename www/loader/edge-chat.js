// <edge-chat> loader: one script tag puts the edgechat widget on any page.
//   <script type="module" src="https://cdn.example/edgechat/edge-chat.js"></script>
//   <edge-chat endpoint="https://edge.example" site-key="pk_..." title="Help" mode="inline|bubble"></edge-chat>
// A signed-in user: `session-token="..."` or the `sessionToken` property (kept in memory only), or
// `token-url="/edgechat-token"` (the widget fetches {token, expires_at} with the page's cookies and refreshes it).
// A bubble's corner: position="bottom-right" (default) or "bottom-left" (read by the stylesheet, so not observed here).
// With the `byok` attribute the element loads the bring-your-own-key variant (byok/, a larger wasm) instead.
// The wasm, its JS glue and the stylesheet are loaded relative to this file. The widget lives in a shadow root,
// so the page's CSS cannot break it and it cannot break the page.
const asset = (name) => new URL(name, import.meta.url).href;
const boot = {};
const load = (dir) => {
  if (boot[dir]) return boot[dir];
  // The wasm download starts with the glue's, not after it (one round trip less); the glue's init awaits it.
  const wasm = fetch(asset(`./${dir}edgechat-www_bg.wasm`));
  wasm.catch(() => {}); // a failure surfaces through init below, not as an unhandled rejection first
  return (boot[dir] = import(asset(`./${dir}edgechat-www.js`)).then(async (m) => {
    await m.default({ module_or_path: wasm });
    return m;
  }));
};

class EdgeChat extends HTMLElement {
  static observedAttributes = ['endpoint', 'site-key', 'title', 'mode', 'byok', 'session-token', 'token-url'];

  // The property wins over the attribute once set; a new token goes to the mounted widget (no remount).
  get sessionToken() {
    return this._session !== undefined ? this._session : this.getAttribute('session-token');
  }

  set sessionToken(value) {
    this._session = value == null ? null : String(value);
    this._widget?.set_session_token(this.sessionToken || undefined);
  }

  connectedCallback() {
    // A value the page set before this element was upgraded is an own property shadowing the accessor.
    if (Object.prototype.hasOwnProperty.call(this, 'sessionToken')) {
      const value = this.sessionToken;
      delete this.sessionToken;
      this.sessionToken = value;
    }
    const token = (this._token = {});
    const root = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
    const sheet = document.createElement('link');
    sheet.rel = 'stylesheet';
    sheet.href = asset('./edgechat.css');
    const styled = new Promise((done) => { sheet.onload = sheet.onerror = done; });
    const host = document.createElement('div');
    host.className = 'ec-host';
    host.title = ''; // the element's own `title` attribute must not become a tooltip over the whole widget
    root.replaceChildren(sheet, host);
    Promise.all([load(this.hasAttribute('byok') ? 'byok/' : ''), styled])
      .then(([m]) => {
        if (this._token !== token || !this.isConnected) return;
        const attr = (name, fallback = '') => this.getAttribute(name) ?? fallback;
        this._widget = m.mount_edge_chat(host, attr('endpoint'), attr('site-key'), attr('title'), attr('mode', 'inline'),
          this.sessionToken || undefined, attr('token-url') || undefined);
      })
      .catch((err) => {
        host.textContent = `The chat could not load: ${err && err.message ? err.message : err}`;
        console.error('edge-chat:', err);
      });
  }

  disconnectedCallback() {
    this._token = null;
    this._widget?.unmount();
    this._widget = null;
  }

  attributeChangedCallback(name, old, value) {
    if (name === 'session-token') {
      if (this._session === undefined) this._widget?.set_session_token(value || undefined);
    } else if (this._widget && old !== value) {
      this.disconnectedCallback();
      this.connectedCallback();
    }
  }
}

if (!customElements.get('edge-chat')) customElements.define('edge-chat', EdgeChat);
