// The whole widget's (and the app's) main-thread time per 1,000 streamed tokens: the built widget (dist/) in headless Chromium
// reads a 20,000-token answer from a local edge stand-in over real SSE (fetch, the core's SSE parser, the chat
// state, the view, the markdown renderer, style and layout as the page paints). The stand-in sends the answer
// 1,000 tokens at a time, each block followed by a marker paragraph; the block's cost is the growth of the
// renderer process's main-thread task time (CDP `Performance.getMetrics` TaskDuration) from the block's first
// byte until the page shows its marker.
import http from 'node:http';
import { startStatic } from '../../tests/browser/support/stack.mjs';

const CONFIG = {
  models: [{ alias: 'fast', label: 'Fast', provider: 'openai-chat' }],
  default_model: 'fast',
  limits: { max_tokens: 100000, max_messages: 50, max_message_chars: 8000, max_total_chars: 60000 },
  resumable: false,
  simulated: true,
};

/** How the benchmark drives each front end: the page, its input, and the rendered text of the answer. */
const FRONT_ENDS = {
  widget: {
    path: '/embed.html',
    input: 'edge-chat .ec-input',
    done: 'edge-chat .ec-assistant[data-status="done"]',
    text: () =>
      document.querySelector('edge-chat').shadowRoot.querySelector('.ec-assistant:last-child .ec-md').textContent,
  },
  app: {
    path: '/',
    input: '#composer-input',
    done: '.log .turn.answer[data-status="done"]',
    text: () => [...document.querySelectorAll('.log .turn.answer .md')].at(-1).textContent,
  },
};

/** Runs the benchmark in a new page of `browser`; returns, per 1,000-token block, the main-thread ms: [all tasks,
 * script, layout, style]. */
export async function wholeWidget(browser, toks, block = 1000) {
  return wholeFrontEnd(browser, toks, 'widget', block);
}

/** The same for the app (dist/index.html). */
export async function wholeApp(browser, toks, block = 1000) {
  return wholeFrontEnd(browser, toks, 'app', block);
}

async function wholeFrontEnd(browser, toks, which, block) {
  const fe = FRONT_ENDS[which];
  let stream;
  let opened;
  const ready = new Promise((r) => {
    opened = r;
  });
  const edge = http.createServer((req, res) => {
    if (req.url === '/api/config')
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(CONFIG));
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    stream = { res, id: 0 };
    opened();
  });
  await new Promise((r) => edge.listen(0, '127.0.0.1', r));
  const web = await startStatic({ edgeUrl: () => `http://127.0.0.1:${edge.address().port}` });
  const page = await browser.context.newPage();
  const send = (event, data) =>
    stream.res.write(`id: ${++stream.id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const tick = () => new Promise((r) => setTimeout(r, 1));
  try {
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const KINDS = ['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration'];
    const busy = async () => {
      const m = (await cdp.send('Performance.getMetrics')).metrics;
      return KINDS.map((k) => m.find((x) => x.name === k).value * 1000);
    };
    // The widget starts from an empty conversation; the app opens its newest thread (a new one: the app's
    // threads are in IndexedDB, and a new thread is one keypress away).
    await page.goto(`${web.url}${fe.path}`);
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    const input = page.locator(fe.input);
    await input.waitFor({ timeout: 30000 });
    if (which === 'app') {
      await page.keyboard.press('Control+k');
      await page.locator('.log .empty').waitFor({ timeout: 30000 });
    }
    await input.waitFor();
    await input.fill('a long answer, please');
    await input.press('Enter');
    await ready;
    send('start', { request_id: 'bench', stream_id: '', model: 'fast', provider: 'openai-chat', resumable: false });
    const blocks = [];
    for (let b = 0; b * block < toks.length; b++) {
      const before = await busy();
      const part = toks.slice(b * block, (b + 1) * block);
      // 8 tokens per write, a write per millisecond: the network delivers them as a model's stream would.
      for (let i = 0; i < part.length; i += 8) {
        send('delta', { text: part.slice(i, i + 8).join('') });
        await tick();
      }
      const marker = `mark${b}x`;
      send('delta', { text: `\n\n${marker}\n\n` });
      await page.waitForFunction(
        ([m, text]) => new Function(`return (${text})()`)().includes(m),
        [marker, fe.text.toString()],
        { polling: 20, timeout: 60000 },
      );
      const after = await busy();
      blocks.push(after.map((v, i) => v - before[i]));
    }
    send('usage', {
      input_tokens: 10,
      output_tokens: toks.length,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
      cost_usd: null,
      estimated: false,
    });
    send('done', { stop_reason: 'end_turn', raw_stop_reason: 'stop', stopped: false });
    stream.res.end();
    await page.locator(fe.done).waitFor({ timeout: 60000 });
    return blocks;
  } finally {
    await page.close();
    await web.stop();
    edge.closeAllConnections?.();
    await new Promise((r) => edge.close(r));
  }
}
