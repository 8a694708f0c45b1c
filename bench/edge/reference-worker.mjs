// Reference workers for the edge benchmark: the floor a Worker in this workerd can reach. `/asis` returns the
// upstream's Response as is (`return fetch(...)`); `/pass` hands the upstream body to a new Response untouched;
// `/pump` moves every chunk through JavaScript (read, then write to a TransformStream), as any handler that looks
// at the events must; `/pumpfirst` is the same pump returning its Response only once the first chunk is in. env.UP is the mock upstream's URL.
export default {
  async fetch(req, env) {
    const path = new URL(req.url).pathname;
    const sent = fetch(`${env.UP}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-test-openai-0000', 'content-type': 'application/json' },
      body: await req.text(),
    });
    if (path === '/asis') return sent;
    const up = await sent;
    const headers = { 'content-type': 'text/event-stream' };
    if (path === '/pass') return new Response(up.body, { status: up.status, headers });
    const { readable, writable } = new TransformStream();
    const w = writable.getWriter();
    const r = up.body.getReader();
    if (path === '/pumpfirst') {
      // As the edge does: the first chunk is read before the Response is returned (a failure up to then could
      // still be retried and answered with another status); then the same pump.
      const first = await r.read();
      if (!first.done) w.write(first.value);
    }
    const pump = async () => {
      for (;;) {
        const { value, done } = await r.read();
        if (done) break;
        await w.write(value);
      }
      await w.close();
    };
    pump().catch(() => {});
    return new Response(readable, { status: up.status, headers });
  },
};
