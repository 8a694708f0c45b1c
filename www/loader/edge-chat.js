// <edge-chat> loader: one script tag puts the edgechat widget on any page.
//   <script type="module" src="https://cdn.example/edgechat/edge-chat.js"></script>
//   <edge-chat endpoint="https://edge.example" site-key="pk_..." title="Help" mode="inline|bubble"></edge-chat>
// A signed-in user: `session-token="..."` or the `sessionToken` property (kept in memory only), or
// `token-url="/edgechat-token"` (the widget fetches {token, expires_at} with the page's cookies and refreshes it).
// A bubble's corner: position="bottom-right" (default) or "bottom-left" (read by the stylesheet, so not observed here).
// With the `byok` attribute the element loads the bring-your-own-key variant (byok/, a larger wasm) instead.
// `greeting="…"` and `suggestions="First question|Second question"` fill an empty conversation; the `strings`
// property replaces any UI text, the `tools` property registers client tools; methods send(text), clear(), open(),
// close(); events edgechat:message, edgechat:usage, edgechat:error, edgechat:tool-call (composed, bubbling; the
// wasm dispatches them on this element). All declared in packages/edge-chat/edge-chat.d.ts.
// The wasm, its JS glue and the stylesheet are loaded relative to this file. The widget lives in a shadow root,
// so the page's CSS cannot break it and it cannot break the page.
// Every file is named literally in `new URL('./…', import.meta.url)` / `import('./…')` (never built from a variable)
// so that bundlers (Vite, webpack, Rollup, Parcel) find, copy and rewrite them when a page imports the npm package;
// unbundled, the same URLs resolve next to this file.
const stylesheet = () => new URL('./edgechat.css', import.meta.url).href;
const boot = {};
const load = (byok) => {
  const key = byok ? 'byok' : 'default';
  if (boot[key]) return boot[key];
  // The wasm download starts with the glue's, not after it (one round trip less); the glue's init awaits it.
  const [glue, wasm] = byok
    ? [import('./byok/edgechat-www.js'), fetch(new URL('./byok/edgechat-www_bg.wasm', import.meta.url))]
    : [import('./edgechat-www.js'), fetch(new URL('./edgechat-www_bg.wasm', import.meta.url))];
  wasm.catch(() => {}); // a failure surfaces through init below, not as an unhandled rejection first
  return (boot[key] = glue.then(async (m) => {
    await m.default({ module_or_path: wasm });
    return m;
  }));
};

class EdgeChat extends HTMLElement {
  // Messages sent before the widget loaded.
  _queued = [];
  static observedAttributes = [
    'endpoint',
    'site-key',
    'title',
    'mode',
    'byok',
    'session-token',
    'token-url',
    'greeting',
    'suggestions',
  ];

  // The widget reads it before every request, so a new token needs no remount. Kept in memory only; once set,
  // the property wins over the attribute.
  get sessionToken() {
    return this._session !== undefined ? this._session : this.getAttribute('session-token');
  }

  set sessionToken(value) {
    this._session = value == null ? null : String(value);
  }

  connectedCallback() {
    // A property set before this class was defined (the script loads late) is an own property shadowing the
    // accessor: move it over.
    for (const p of [
      'endpoint',
      'siteKey',
      'mode',
      'byok',
      'sessionToken',
      'greeting',
      'suggestions',
      'strings',
      'tools',
      'toolTimeout',
    ]) {
      if (Object.hasOwn(this, p)) {
        const value = this[p];
        delete this[p];
        this[p] = value;
      }
    }
    const token = (this._token = {});
    const root = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
    const sheet = document.createElement('link');
    sheet.rel = 'stylesheet';
    sheet.href = stylesheet();
    const styled = new Promise((done) => {
      sheet.onload = sheet.onerror = done;
    });
    const host = document.createElement('div');
    host.className = 'ec-host';
    host.title = ''; // the element's own `title` attribute must not become a tooltip over the whole widget
    root.replaceChildren(sheet, host);
    Promise.all([load(this.hasAttribute('byok')), styled])
      .then(([m]) => {
        if (this._token !== token || !this.isConnected) return;
        const attr = (name, fallback = '') => this.getAttribute(name) ?? fallback;
        this._widget = m.mount_edge_chat(host, this, {
          endpoint: attr('endpoint'),
          siteKey: attr('site-key'),
          title: attr('title'),
          mode: attr('mode', 'inline'),
          tokenUrl: attr('token-url'),
          greeting: this.greeting || undefined,
          suggestions: this.suggestions,
          strings: this.strings,
          tools: this.tools,
          toolTimeout: this.toolTimeout,
        });
        if (this._openAsked !== undefined) this._widget.act(2, this._openAsked);
        for (const text of this._queued.splice(0)) this._widget.act(0, text);
      })
      .catch((err) => {
        host.textContent = `The chat could not load: ${err && err.message ? err.message : err}`;
        console.error('edge-chat:', err);
      });
  }

  // Sends `text` as the user's message (queued until the widget has loaded); false when it was not sent (blank, an
  // answer in progress, too long).
  send(text) {
    if (this._widget) return this._widget.act(0, String(text));
    this._queued.push(String(text));
    return true;
  }

  // Starts a new, empty conversation.
  clear() {
    this._widget?.act(1);
  }

  // Opens the bubble's panel (mode="bubble"; an inline widget is always open).
  open() {
    this._openAsked = true;
    this._widget?.act(2, true);
  }

  // Closes the bubble's panel.
  close() {
    this._openAsked = false;
    this._widget?.act(2, false);
  }

  disconnectedCallback() {
    this._token = null;
    this._widget?.free();
    this._widget = null;
  }

  attributeChangedCallback(name, old, value) {
    if (old !== value && name !== 'session-token') this._remount();
  }

  // Properties mirror the attributes (`title` is HTMLElement's own); setting one re-mounts the widget, as the
  // attribute does. Declared for TypeScript in packages/edge-chat/edge-chat.d.ts.
  get endpoint() {
    return this.getAttribute('endpoint') ?? '';
  }
  set endpoint(value) {
    this.setAttribute('endpoint', value);
  }
  get siteKey() {
    return this.getAttribute('site-key') ?? '';
  }
  set siteKey(value) {
    this.setAttribute('site-key', value);
  }
  get mode() {
    return this.getAttribute('mode') ?? 'inline';
  }
  set mode(value) {
    this.setAttribute('mode', value);
  }
  get byok() {
    return this.hasAttribute('byok');
  }
  set byok(value) {
    this.toggleAttribute('byok', Boolean(value));
  }
  get greeting() {
    return this.getAttribute('greeting') ?? '';
  }
  set greeting(value) {
    this.setAttribute('greeting', value);
  }
  // Attribute `suggestions`: starter questions separated by `|`.
  get suggestions() {
    return (this.getAttribute('suggestions') ?? '')
      .split('|')
      .map((q) => q.trim())
      .filter(Boolean);
  }
  set suggestions(value) {
    this.setAttribute('suggestions', Array.isArray(value) ? value.join('|') : String(value));
  }
  // Replacements for the widget's texts ({ send: 'Envoyer', … }); setting it re-mounts the widget.
  get strings() {
    return this._strings ?? {};
  }
  set strings(value) {
    this._strings = value ?? {};
    this._remount();
  }
  // Client tools: [{ name, description, parameters, run: async (args) => result, confirm?, timeout_ms? }].
  // Used from the next request on (no re-mount).
  get tools() {
    return this._tools ?? [];
  }
  set tools(value) {
    this._tools = Array.isArray(value) ? value : [];
    this._widget?.act(3, this._tools);
  }
  // A tool call's time limit in ms when its tool sets no `timeout_ms` (default 30000); re-mounts the widget.
  get toolTimeout() {
    return this._toolTimeout;
  }
  set toolTimeout(value) {
    this._toolTimeout = value == null ? undefined : Number(value);
    this._remount();
  }

  _remount() {
    if (this._widget) {
      this.disconnectedCallback();
      this.connectedCallback();
    }
  }
}

if (!customElements.get('edge-chat')) customElements.define('edge-chat', EdgeChat);
