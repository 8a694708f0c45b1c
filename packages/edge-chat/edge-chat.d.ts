// Types for the <edge-chat> element (dist/edge-chat.js). Importing the module defines the element; it exports no
// values. custom-elements.json describes the same element for editors and tools.

/** How the widget sits on the page. */
export type EdgeChatMode = 'inline' | 'bubble';

/**
 * The `<edge-chat>` element: a streaming chat with the edgechat edge, rendered in an open shadow root.
 * Each property mirrors its attribute; changing either re-mounts the widget with the new settings (except the
 * session token, read before each request). The
 * conversation is kept in localStorage per endpoint and site key, so a re-mount with the same two continues it.
 */
export interface EdgeChatElement extends HTMLElement {
  /** Attribute `endpoint`: the edge's origin, e.g. `https://edge.example`. Empty: the page's own origin. */
  endpoint: string;
  /** Attribute `site-key`: the public site key the edge checks (`pk_…`); not a secret. */
  siteKey: string;
  /** Attribute `mode`: `inline` (a panel in the page flow, the default) or `bubble` (a floating launcher). */
  mode: EdgeChatMode;
  /**
   * Attribute `byok` (boolean): offer bring-your-own-key mode. The element then loads the larger variant in
   * `dist/byok/`; pages without it never download that.
   */
  byok: boolean;
  /**
   * Attribute `session-token`: a session token your page already has, sent as `Authorization: Bearer` on every edge
   * request. The property is kept in memory only; until it is set it reads the attribute, once set it wins (`null`
   * falls back to `token-url`). The widget reads it before each request, so a new token needs no re-mount.
   */
  sessionToken: string | null;
  /** Attribute `title` (HTMLElement's own): the heading shown in the widget. */
  title: string;
  /** Custom element lifecycle: mounts the widget (loads the wasm on first use). */
  connectedCallback(): void;
  /** Custom element lifecycle: unmounts the widget and removes its listeners. */
  disconnectedCallback(): void;
  /** Custom element lifecycle: an observed attribute changed; re-mounts the widget. */
  attributeChangedCallback(name: EdgeChatAttributeName, oldValue: string | null, newValue: string | null): void;
}

/** The attributes the element observes (a change re-mounts the widget). `position` is read by the stylesheet. */
export type EdgeChatAttributeName =
  | 'endpoint'
  | 'site-key'
  | 'title'
  | 'mode'
  | 'byok'
  | 'session-token'
  | 'token-url';

/** A bubble's corner. */
export type EdgeChatPosition = 'bottom-right' | 'bottom-left';

/**
 * The element's attributes as a props type, for frameworks' JSX typings, e.g. in React 19:
 * `declare module 'react' { namespace JSX { interface IntrinsicElements { 'edge-chat': EdgeChatAttributes } } }`.
 */
export interface EdgeChatAttributes {
  endpoint?: string;
  'site-key'?: string;
  title?: string;
  mode?: EdgeChatMode;
  /** Attribute `position`: the bubble's corner (mode `bubble`), `bottom-right` by default. */
  position?: EdgeChatPosition;
  byok?: boolean | '';
  'session-token'?: string;
  /**
   * Attribute `token-url`: your backend's endpoint; the widget GETs it with the page's cookies for
   * `{"token": "...", "expires_at": <unix seconds>}`, keeps the token in memory and refreshes it.
   */
  'token-url'?: string;
}

/**
 * Events: the element dispatches none of its own. What happens in the chat (answers, errors, usage) stays inside
 * the widget; the edge logs every request.
 */
export type EdgeChatEventMap = HTMLElementEventMap;

declare global {
  interface HTMLElementTagNameMap {
    'edge-chat': EdgeChatElement;
  }
}
