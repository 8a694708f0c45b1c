// XSS suite: known script-injection payloads as model output must all render inert.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, startStatic, launch, shot } from './support/stack.mjs';
import { open, send, lastAnswer, settled } from './support/widget.mjs';

const PAYLOADS = [
  '<script>window.__xss=1;alert("script")</script>',
  '<img src=x onerror="window.__xss=1;alert(\'img\')">',
  '<svg onload="window.__xss=1;alert(\'svg\')"><circle r="9"/></svg>',
  '<iframe src="javascript:alert(\'iframe\')"></iframe>',
  '<a href="javascript:alert(\'raw-a\')">raw anchor</a>',
  '<details open ontoggle="alert(\'details\')">x</details>',
  '<body onload="alert(\'body\')">',
  '<style>*{display:none!important}</style>',
  '<math><mi xlink:href="javascript:alert(\'math\')">m</mi></math>',
  '<object data="javascript:alert(\'obj\')"></object><embed src="javascript:alert(1)">',
  '[js link](javascript:window.__xss=1;alert("js"))',
  '[mixed case](JaVaScRiPt:alert("case"))',
  '[spaced](  javascript:alert("space"))',
  '[tab](java\tscript:alert("tab"))',
  '[entity](&#106;avascript:alert("entity"))',
  '[vb](vbscript:msgbox(1))',
  '[data url](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '[relative](//evil.example/x)',
  '[title attr](https://ok.example/ "t" onclick=alert(1))',
  '![pixel](https://evil.example/pixel.png)',
  '![onerror](x" onerror="alert(\'imgmd\'))',
  '![js image](javascript:alert("img-js"))',
  '<https://ok.example/"onmouseover="alert(1)>',
  '&lt;script&gt;alert("entities")&lt;/script&gt; &#60;img src=x onerror=alert(2)&#62;',
  '`<script>alert("code span")</script>`',
  '```html\n<script>alert("fence")</script>\n<img src=x onerror=alert(1)>\n```',
  '<div style="position:fixed;inset:0" onclick="alert(1)">overlay</div>',
  '<form action="https://evil.example"><input name=q autofocus onfocus=alert(1)></form>',
  '<video src=x onerror=alert(1)></video><audio src=x onerror=alert(1)></audio>',
  '<link rel=stylesheet href="https://evil.example/x.css"><base href="https://evil.example/">',
  '[ok](https://ok.example/safe) and [mail](mailto:someone@example.com)',
  '[relative ok](/docs/page.md "t") and [ref link][r]\n\n[r]: <./a b.html>',
];

let edge, web, browser, page;
const external = [];

before(async () => {
  edge = await startBackend({ inline: true });
  web = await startStatic({ edgeUrl: () => edge.url });
  browser = await launch();
  page = browser.page;
  page.on('request', (r) => {
    if (!r.url().startsWith(web.url)) external.push(r.url());
  });
  await open(page, `${web.url}/embed.html`);
});

after(async () => {
  await browser?.close();
  await web?.stop();
  await edge?.stop();
});

async function inspect() {
  return page.evaluate(() => {
    const root = document.querySelector('edge-chat').shadowRoot;
    const mds = [...root.querySelectorAll('.ec-md')];
    const all = mds.flatMap((m) => [...m.querySelectorAll('*')]);
    const allowed = new Set([
      'H1',
      'H2',
      'H3',
      'H4',
      'H5',
      'H6',
      'P',
      'DIV',
      'SPAN',
      'PRE',
      'CODE',
      'BUTTON',
      'UL',
      'OL',
      'LI',
      'BLOCKQUOTE',
      'TABLE',
      'THEAD',
      'TBODY',
      'TR',
      'TH',
      'TD',
      'HR',
      'A',
      'STRONG',
      'EM',
      'DEL',
      'BR',
    ]);
    const allowedAttrs = new Set(['class', 'href', 'rel', 'target', 'referrerpolicy', 'type', 'aria-label', 'start']);
    return {
      xss: window.__xss ?? null,
      tags: [...new Set(all.map((e) => e.tagName))].filter((t) => !allowed.has(t)),
      attrs: [...new Set(all.flatMap((e) => e.getAttributeNames()))].filter((a) => !allowedAttrs.has(a)),
      links: all
        .filter((e) => e.tagName === 'A')
        .map((a) => ({ href: a.getAttribute('href'), rel: a.rel, target: a.target })),
      text: mds.map((m) => m.innerText).join('\n'),
      anywhere: [...document.querySelectorAll('script,img,svg,iframe,object,embed,video,audio,style,form')].length,
      inShadow: root
        .querySelector('.ec-log')
        .querySelectorAll('script,img,svg,iframe,object,embed,video,audio,style,form,math,base,input,link').length,
    };
  });
}

test('every payload renders inert, streamed in small chunks and as one piece', async () => {
  for (const [i, payload] of PAYLOADS.entries()) {
    // Alternate chunking: tiny pieces exercise the streaming tail, whole pieces the strict final parse.
    edge.queue({ text: `Payload ${i}:\n\n${payload}\n\nend ${i}`, chunk: i % 2 ? 2 : 1000, delayMs: 1 });
    await send(page, `payload ${i}`);
    assert.equal(await settled(page), 'done', `payload ${i} finished`);
  }
  const all = PAYLOADS.map((p, i) => `Payload ${i}:\n\n${p}\n\nend ${i}`).join('\n\n');
  edge.queue({ text: all, chunk: 7, delayMs: 0 });
  await send(page, 'all payloads at once');
  await settled(page);
  // Give any handler a chance to fire: hover, focus and wait.
  for (const el of await lastAnswer(page).locator('.ec-md *').all()) {
    await el.dispatchEvent('mouseover').catch(() => {});
  }
  await page.waitForTimeout(300);

  const r = await inspect();
  assert.equal(r.xss, null, 'no payload script ran');
  assert.deepEqual(browser.dialogs, [], 'no dialog opened');
  assert.deepEqual(r.tags, [], "only the renderer's own tags exist");
  assert.deepEqual(r.attrs, [], "no attributes beyond the renderer's own");
  assert.equal(r.inShadow, 0, 'no active elements in the widget');
  for (const l of r.links) {
    // http(s), mailto, or relative (no scheme, not `//host`).
    assert.match(l.href, /^(https?:|mailto:|(?![a-z][a-z0-9+.-]*:|\/\/))/i, `unsafe href ${l.href}`);
    assert.equal(l.target, '_blank');
    assert.match(l.rel, /noopener/);
    assert.match(l.rel, /noreferrer/);
  }
  const hrefs = r.links.map((l) => l.href);
  assert.ok(hrefs.includes('https://ok.example/safe'));
  assert.ok(hrefs.includes('mailto:someone@example.com'));
  assert.ok(hrefs.includes('/docs/page.md') && hrefs.includes('./a%20b.html'), 'relative links are links');
  assert.ok(hrefs.includes('https://evil.example/pixel.png'), 'a markdown image becomes a link');
  assert.ok(!hrefs.some((h) => h.includes('onmouseover')), 'autolink with a quote is not a link');
  // Payload text is shown, literally.
  assert.ok(r.text.includes('<script>window.__xss=1;alert("script")</script>'));
  assert.ok(r.text.includes('[js link](javascript:window.__xss=1;alert("js"))'));
  assert.ok(r.text.includes('<script>alert("entities")</script>'), 'entities decode to text, not markup');
  assert.deepEqual(external, [], 'nothing from the model loaded a resource');
  assert.deepEqual(browser.consoleErrors, []);
  await shot(page, 'xss-inert');
});
