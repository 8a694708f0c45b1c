// Types for the <edge-chat> element (dist/edge-chat.js). Importing the module defines the element; it exports no
// values. custom-elements.json describes the same element for editors and tools.

/** How the widget sits on the page. */
export type EdgeChatMode = 'inline' | 'bubble';

/**
 * The `<edge-chat>` element: a streaming chat with the edgechat edge, rendered in an open shadow root.
 * Each property mirrors its attribute; changing either re-mounts the widget with the new settings (except the
 * session token, read before each request, and `tools`, used from the next request). The
 * conversation is kept in localStorage per endpoint and site key, so a re-mount with the same two continues it.
 * Events (`edgechat:message`, `edgechat:usage`, `edgechat:error`, `edgechat:tool-call`) are `CustomEvent`s that
 * bubble and are composed: listen on the element or anywhere above it ({@link EdgeChatEventMap}).
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
  /** Attribute `greeting`: shown in an empty conversation as the assistant's first words (never sent). */
  greeting: string;
  /** Attribute `suggestions`: starter questions (the attribute separates them with `|`); a click sends one. */
  suggestions: string[];
  /** Replacements for the widget's texts, by key; keys left out keep their English default. Re-mounts. */
  strings: EdgeChatStrings;
  /**
   * Client tools the model may call (the edge must allow them for the site key: `client_tools`). Set the array
   * again to change them; used from the next request on.
   */
  tools: EdgeChatTool[];
  /** A tool call's time limit in ms when its tool sets no `timeout_ms` (default 30000). Re-mounts. */
  toolTimeout: number | undefined;
  /**
   * Sends `text` as the user's message (queued until the widget has loaded). `false` when it was not sent:
   * blank, an answer in progress, or longer than the edge allows.
   */
  send(text: string): boolean;
  /** Starts a new, empty conversation (stopping an answer in progress). */
  clear(): void;
  /** Opens the bubble's panel (`mode="bubble"`; an inline widget is always open). */
  open(): void;
  /** Closes the bubble's panel. */
  close(): void;
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
  | 'token-url'
  | 'greeting'
  | 'suggestions';

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
  /** Attribute `greeting`: the assistant's first words in an empty conversation. */
  greeting?: string;
  /** Attribute `suggestions`: starter questions separated by `|`. */
  suggestions?: string;
  /** Attribute `dir` (HTML's own): `rtl` lays the widget out right to left (as does a right-to-left page). */
  dir?: 'ltr' | 'rtl' | 'auto';
}

/** A JSON Schema object describing a tool's arguments (`{"type": "object", "properties": {…}}`). */
export type EdgeChatJsonSchema = { type: 'object'; [keyword: string]: unknown };

/** A client tool: the page's function the model may call. */
export interface EdgeChatTool {
  /** Function name: 1-64 characters of `a-z A-Z 0-9 _ -`, unique among the tools. */
  name: string;
  /** What it does, for the model. */
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters: EdgeChatJsonSchema;
  /**
   * Runs the call with the parsed arguments. The result (or what the promise resolves to) is JSON-serialized for the
   * model; a throw or rejection goes back as `{"error": message}`.
   */
  run: (args: Record<string, unknown>) => unknown | Promise<unknown>;
  /** Ask the user before each call (Run / Don't run); a refusal goes back as an error result. */
  confirm?: boolean;
  /** Time limit of a call in ms (default: the element's `toolTimeout`, 30000); then an error result. */
  timeout_ms?: number;
}

/** Replacements for the widget's texts. `{n}` (and in `usage` / `usageDetail`: `{i}`, `{o}`, `{c}`, `{$}`) are filled in. */
export interface EdgeChatStrings {
  title?: string;
  close?: string;
  newAnswer?: string;
  newChat?: string;
  clearAll?: string;
  clearAllHint?: string;
  model?: string;
  conversation?: string;
  message?: string;
  placeholder?: string;
  send?: string;
  stop?: string;
  empty?: string;
  suggestions?: string;
  simulated?: string;
  settingsError?: string;
  retry?: string;
  summarized?: string;
  copy?: string;
  copyCode?: string;
  copied?: string;
  edit?: string;
  thinking?: string;
  reasoning?: string;
  reconnecting?: string;
  stopped?: string;
  continue?: string;
  continueHint?: string;
  regenerate?: string;
  toolCalls?: string;
  confirm?: string;
  allow?: string;
  deny?: string;
  running?: string;
  toolFailed?: string;
  tooLong?: string;
  usage?: string;
  usageDetail?: string;
  unknown?: string;
  estimated?: string;
  steps?: string;
  rateLimited?: string;
  networkError?: string;
  cutOff?: string;
  providerError?: string;
  refused?: string;
  signedOut?: string;
  tryAgain?: string;
  attach?: string;
  remove?: string;
  notKept?: string;
  connectionClosed?: string;
  notResumed?: string;
  tokenLimit?: string;
  budgetRanOut?: string;
  noSessionToken?: string;
  storageFull?: string;
  tooManyFiles?: string;
  noFileReader?: string;
  /** The bring-your-own-key variant's (`byok` attribute) texts. */
  byokNote?: string;
  byokTitle?: string;
  byokWarning?: string;
  byokProvider?: string;
  byokBaseUrl?: string;
  byokBaseUrlHint?: string;
  byokModel?: string;
  byokKey?: string;
  byokUse?: string;
  byokForget?: string;
}

/** `edgechat:message`: a message was sent, or an answer (or one step of a tool loop) ended. */
export interface EdgeChatMessageDetail {
  id: number;
  role: 'user' | 'assistant';
  text: string;
  status: 'done' | 'streaming' | 'stopped' | 'truncated' | 'failed';
}

/** Tokens and cost. `cost_usd` is absent when the model's price is unknown. */
export interface EdgeChatUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cost_usd?: number;
  estimated: boolean;
}

/** `edgechat:usage`: one request's usage, and the question's total over its tool steps so far. */
export interface EdgeChatUsageDetail extends EdgeChatUsage {
  total: EdgeChatUsage;
  steps: number;
}

/** `edgechat:error`: an answer failed or was cut off. */
export interface EdgeChatErrorDetail {
  kind: 'ratelimited' | 'network' | 'truncated' | 'provider' | 'rejected' | 'auth';
  /** The edge's or provider's error type (`tools_not_allowed`, `rate_limited`, …). */
  code: string;
  message: string;
  retryable: boolean;
  retry_after_ms?: number;
}

/** `edgechat:tool-call`: a client tool call ended (ran, threw, timed out, was declined or not run). */
export interface EdgeChatToolCallDetail {
  id: string;
  name: string;
  /** The model's arguments, JSON text. */
  arguments: string;
  /** What went back to the model, JSON text (`{"error": "..."}` when `is_error`). */
  result: string;
  is_error: boolean;
}

/** The element's events (all bubble and are composed, so a listener on `document` hears them too). */
export interface EdgeChatEventMap extends HTMLElementEventMap, EdgeChatEvents {}

declare global {
  interface HTMLElementTagNameMap {
    'edge-chat': EdgeChatElement;
  }
  // The events bubble out of the element and cross shadow roots: typed on elements and on the document.
  interface HTMLElementEventMap extends EdgeChatEvents {}
  interface DocumentEventMap extends EdgeChatEvents {}
}

/** The element's own events, by name. */
export interface EdgeChatEvents {
  'edgechat:message': CustomEvent<EdgeChatMessageDetail>;
  'edgechat:usage': CustomEvent<EdgeChatUsageDetail>;
  'edgechat:error': CustomEvent<EdgeChatErrorDetail>;
  'edgechat:tool-call': CustomEvent<EdgeChatToolCallDetail>;
}
