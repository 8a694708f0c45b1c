// The runtime calls of the floor's Rust-driven handler (src/rust_io.rs), one per step, each what the JS handler
// (../reference-worker.mjs `widget`) does at that step; the reference's own request, stream and responses are
// handed in (worker-async.mjs).

export const header = (req, name) => req.headers.get(name) ?? undefined;
export const envText = (env, name) => (typeof env?.[name] === 'string' ? env[name] : undefined);
export const bodyBytes = (req) => req.arrayBuffer().then((b) => new Uint8Array(b));
export const uuid = () => crypto.randomUUID();

export const status = (resp) => resp.status;
export const reader = (resp) => resp.body.getReader();
/** One read: the chunk, or undefined at the end. */
export const read = (r) => r.read().then((x) => (x.done ? undefined : x.value));
export const drain = async (r) => {
  while (!(await r.read()).done);
};

export const write = (w, bytes) => w.write(bytes.slice());
export const close = (w) => w.close();

export const waitUntil = (ctx, p) => ctx?.waitUntil(p);
export const abortController = () => new AbortController();
export const signalOf = (c) => c.signal;
export const abort = (c) => c.abort();
