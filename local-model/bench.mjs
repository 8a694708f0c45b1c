#!/usr/bin/env node
// Measures the local model server from the client side: start-up time, time to first token, tokens/s and RSS.
//
//   node local-model/bench.mjs [--runs 5] [--max-tokens 200] [--threads 1]
//
// Starts its own server on an ephemeral port (so the numbers include nothing else), streams `--runs` requests
// one after another and prints a JSON summary (medians). The load average is printed too: on a shared machine
// other work slows llama.cpp down.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'max-tokens': { type: 'string', default: '200' },
    threads: { type: 'string', default: '1' },
  },
});
const runs = Number(values.runs);
const maxTokens = Number(values['max-tokens']);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.floor((s.length - 1) / 2)];
};
const rssMiB = (pid, field) => {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : null;
};

const startedAt = performance.now();
const server = spawn(
  process.execPath,
  [join(dirname(fileURLToPath(import.meta.url)), 'server.mjs'), '--port', '0', '--quiet', '--threads', values.threads],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const url = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.setEncoding('utf8').on('data', (d) => {
    out += d;
    const m = /ready on (http:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]);
  });
  server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
});
const readyMs = performance.now() - startedAt;
const rssIdle = rssMiB(server.pid, 'VmRSS');

const prompts = [
  'Write a story about a lighthouse keeper.',
  'Explain how bridges are built.',
  'Describe a day at the beach.',
  'Tell me about the history of bread.',
  'What makes a good friend?',
];
const results = [];
for (let i = 0; i < runs; i += 1) {
  const sent = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'smollm2',
      messages: [{ role: 'user', content: prompts[i % prompts.length] }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: maxTokens,
      temperature: 0.7,
      seed: i,
    }),
  });
  let firstContentAt = null;
  let buffered = '';
  let usage = null;
  const decoder = new TextDecoder();
  for await (const bytes of res.body) {
    buffered += decoder.decode(bytes, { stream: true });
    let cut;
    while ((cut = buffered.indexOf('\n\n')) >= 0) {
      const data = buffered.slice(6, cut);
      buffered = buffered.slice(cut + 2);
      if (data === '[DONE]') continue;
      const chunk = JSON.parse(data);
      if (chunk.usage) usage = chunk.usage;
      if (firstContentAt === null && chunk.choices[0]?.delta.content) firstContentAt = performance.now();
    }
  }
  const end = performance.now();
  const genSeconds = (end - firstContentAt) / 1000;
  results.push({
    firstTokenMs: firstContentAt - sent,
    completionTokens: usage.completion_tokens,
    tokensPerSecond: (usage.completion_tokens - 1) / genSeconds,
  });
}
const summary = {
  runs,
  max_tokens: maxTokens,
  threads: Number(values.threads),
  process_start_to_ready_ms: Math.round(readyMs),
  median_first_token_ms: Math.round(median(results.map((r) => r.firstTokenMs))),
  median_tokens_per_second: Math.round(median(results.map((r) => r.tokensPerSecond))),
  median_completion_tokens: median(results.map((r) => r.completionTokens)),
  rss_idle_mib: rssIdle,
  rss_after_mib: rssMiB(server.pid, 'VmRSS'),
  rss_peak_mib: rssMiB(server.pid, 'VmHWM'),
  loadavg_1m: Number(loadavg()[0].toFixed(2)),
};
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
server.kill('SIGTERM');
