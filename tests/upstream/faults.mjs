// Fault scenarios: chosen by `queue({ scenario, ... })` or by `mock:<name>[=N]` directives in the last user message.
import { parseDirectives } from './generate.mjs';

/** Scenario names the mock understands (besides a bare HTTP status such as `429` or `503`). */
export const SCENARIOS = new Set([
  'ok',
  'reset',
  'disconnect',
  'stall',
  'malformed',
  'no-terminal',
  'error',
  'hold',
  'long',
  'slow',
]);

const ALIASES = {
  'error-event': 'error',
  'midstream-error': 'error',
  notail: 'no-terminal',
  truncate: 'no-terminal',
  'no-done': 'no-terminal',
  'reset-before-first-byte': 'reset',
  econnreset: 'reset',
  overloaded: '529',
  'rate-limit': '429',
  ratelimit: '429',
};

const DEFAULT_AFTER = { disconnect: 4, stall: 4, malformed: 3, error: 4, hold: 2 };

/** Normalizes a scenario given as a string or object into `{ kind, status?, after, ...options }`; throws on unknown names. */
export function normalizeScenario(input) {
  const s = typeof input === 'string' ? { scenario: input } : { ...(input || {}) };
  if (s.scenario === undefined) Object.assign(s, fromShorthand(s));
  let name = String(s.scenario ?? 'ok').toLowerCase();
  name = ALIASES[name] || name;
  const out = { ...s, scenario: name };
  if (/^[1-5][0-9][0-9]$/.test(name)) {
    out.kind = 'status';
    out.status = Number(name);
  } else if (SCENARIOS.has(name)) {
    out.kind = name;
  } else {
    throw new Error(`unknown mock scenario "${s.scenario}" (known: ${[...SCENARIOS].join(', ')}, or an HTTP status)`);
  }
  if (out.after === undefined && DEFAULT_AFTER[out.kind] !== undefined) out.after = DEFAULT_AFTER[out.kind];
  if (out.kind === 'long' && out.tokens === undefined) out.tokens = 2000;
  if (out.kind === 'slow' && out.delayMs === undefined) out.delayMs = 200;
  if (out.kind === 'status' && out.status === 429 && out.retryAfter === undefined) out.retryAfter = 1;
  return out;
}

/**
 * The shorthand the browser tests' mock edge takes (`{ text, chunk, delayMs }`, `{ status, retryAfter }`,
 * `{ hold: true }`, `{ reset: true }`, `{ drop: true }`, `{ end: 'truncate' | 'error' }`), as upstream scenarios:
 * `drop` and `end` act where the terminal event would be, after all the text.
 */
function fromShorthand(s) {
  if (s.reset) return { scenario: 'reset' };
  if (s.status) return { scenario: String(s.status) };
  if (s.hold) return { scenario: 'hold', after: s.after ?? 1 };
  if (s.drop) return { scenario: 'disconnect', after: s.after ?? 'terminal' };
  if (s.end === 'truncate') return { scenario: 'no-terminal' };
  if (s.end === 'error') return { scenario: 'error', after: s.after ?? 'terminal' };
  return { scenario: 'ok' };
}

/**
 * Reads directives from a text: the first fault directive picks the scenario; modifiers (`words`, `markdown`,
 * `reasoning`, `cached`, `delay`, `retry-after`, `retry-after-ms`, `chunk`) add options. Unknown directives are
 * ignored (the text may legitimately contain "mock:" words).
 */
export function scenarioFromText(text) {
  let scenario = null;
  const opts = {};
  for (const { name, value } of parseDirectives(text)) {
    const n = ALIASES[name] || name;
    if (n === 'words') opts.words = value;
    else if (n === 'markdown') opts.markdown = true;
    else if (n === 'reasoning' || n === 'thinking') opts.reasoning = true;
    else if (n === 'cached' || n === 'cache') opts.cache = true;
    else if (n === 'delay') opts.delayMs = value;
    else if (n === 'chunk') opts.tokensPerChunk = value;
    else if (n === 'retry-after') opts.retryAfter = value;
    else if (n === 'retry-after-ms') opts.retryAfterMs = value;
    else if (!scenario && (SCENARIOS.has(n) || /^[1-5][0-9][0-9]$/.test(n))) {
      scenario = { scenario: n };
      if (value !== undefined) {
        if (n === 'long') scenario.tokens = value;
        else if (n === 'slow') scenario.delayMs = value;
        else scenario.after = value;
      }
    }
  }
  return normalizeScenario({ ...(scenario || { scenario: 'ok' }), ...opts });
}

/** The content options of a scenario (what to generate, not which fault), to combine with a queued scenario. */
export function contentModifiers(sc) {
  const out = {};
  for (const k of ['words', 'tokens', 'markdown', 'reasoning', 'cache', 'cached', 'tokensPerChunk', 'text', 'chunk']) {
    if (sc[k] !== undefined) out[k] = sc[k];
  }
  return out;
}
