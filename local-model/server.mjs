#!/usr/bin/env node
// A small OpenAI-compatible HTTP server around a tiny local model (SmolLM2-135M on node-llama-cpp), so edgechat
// works offline out of the box. It is a toy for trying the product and testing the protocol, not for answers.
//
//   node local-model/server.mjs [--port 8091] [--host 127.0.0.1] [--model PATH] [--model-id ID] [--threads 1]
//                               [--ctx-size 4096] [--quiet]
//
// Routes: GET /health, GET /v1/models, GET /v1/models/{id}, POST /v1/chat/completions (streaming or not).
// Prints one line `local model ready on http://HOST:PORT ...` on stdout once the model is loaded and the port is
// listening (with --port 0 the line carries the port the OS picked). SIGINT/SIGTERM stop it cleanly.

import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ensureModel, FetchModelError, MODEL } from './fetch-model.mjs';
import { AbortedError, loadEngine } from './lib/engine.mjs';
import {
  ApiError,
  chunkObject,
  completionMeta,
  completionObject,
  finishReasonFor,
  parseChatRequest,
  sseData,
} from './lib/openai.mjs';

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const USAGE = `usage: node local-model/server.mjs [--port 8091] [--host 127.0.0.1] [--model PATH] [--model-id smollm2]
                                  [--threads 1] [--ctx-size 4096] [--quiet]`;

function parseCli(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8091' },
      host: { type: 'string', default: '127.0.0.1' },
      model: { type: 'string' },
      'model-id': { type: 'string', default: MODEL.id },
      threads: { type: 'string', default: '1' },
      'ctx-size': { type: 'string', default: '4096' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const int = (name, min, max) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}`);
    return n;
  };
  return {
    help: values.help,
    port: int('port', 0, 65535),
    host: values.host,
    model: values.model,
    modelId: values['model-id'],
    threads: int('threads', 1, 256),
    contextSize: int('ctx-size', 256, 131072),
    quiet: values.quiet,
  };
}

/** Writes to a response unless the client has gone (writing to a destroyed socket is pointless). */
function write(res, text) {
  if (!res.destroyed && !res.writableEnded) res.write(text);
}

function sendJson(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function sendError(res, err) {
  if (res.headersSent) {
    // Mid-stream: OpenAI-style clients read an `error` object from a data line; then the stream ends.
    if (!res.writableEnded) res.end(sseData(err.body()));
    return;
  }
  sendJson(res, err.status, err.body(), err.status === 413 ? { connection: 'close' } : {});
}

async function readJsonBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new ApiError(413, `The request body is larger than ${MAX_BODY_BYTES} bytes.`, { code: 'body_too_large' });
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, `We could not parse the JSON body of your request (${err.message}).`, {
      code: 'invalid_json',
    });
  }
}

function modelObject(id, created) {
  return { id, object: 'model', created, owned_by: 'edgechat-local' };
}

/** Everything one server instance shares: the engine, in-flight requests, logging. */
function makeHandler({ engine, log, created }) {
  const inflight = new Set();

  async function chatCompletions(req, res) {
    const body = await readJsonBody(req);
    const params = parseChatRequest(body, { modelId: engine.modelId });
    const grammar = await engine.grammarFor(params.responseFormat);
    const promptTokens = engine.checkPromptFits(params.history);

    const aborter = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) aborter.abort();
    });
    if (req.socket.destroyed) aborter.abort(); // the client left while the body was being checked
    const meta = completionMeta(engine.modelId);
    const streaming = params.stream;
    const includeUsage = params.includeUsage;
    if (streaming) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const roleDelta = { role: 'assistant', content: '', refusal: null };
      write(res, sseData(chunkObject(meta, { delta: roleDelta, includeUsage })));
    }
    const onText = streaming
      ? (text) => write(res, sseData(chunkObject(meta, { delta: { content: text }, includeUsage })))
      : undefined;
    const job = engine.generate(params, { signal: aborter.signal, onText, grammar, promptTokens });
    inflight.add(job);
    let result;
    try {
      result = await job;
    } catch (err) {
      if (err instanceof AbortedError) {
        log(`chat aborted by client (stream=${streaming})`);
        return;
      }
      throw err;
    } finally {
      inflight.delete(job);
    }
    const finishReason = finishReasonFor(result.stopReason);
    if (aborter.signal.aborted) {
      log(`chat aborted by client after ${result.usage.completionTokens} tokens (stream=${streaming})`);
      if (!res.writableEnded) res.end();
      return;
    }
    if (streaming) {
      write(res, sseData(chunkObject(meta, { delta: {}, finishReason, includeUsage })));
      if (includeUsage) write(res, sseData(chunkObject(meta, { usage: result.usage, includeUsage })));
      res.end(sseData('[DONE]'));
    } else {
      sendJson(res, 200, completionObject(meta, { text: result.text, finishReason, usage: result.usage }));
    }
    const t = result.timing;
    log(
      `chat stream=${streaming} prompt=${result.usage.promptTokens} (cached ${result.usage.cachedTokens}) ` +
        `completion=${result.usage.completionTokens} finish=${finishReason} ` +
        `first_token=${t.firstTokenMs === null ? '-' : `${t.firstTokenMs.toFixed(0)}ms`} ` +
        `speed=${t.tokensPerSecond === null ? '-' : `${t.tokensPerSecond.toFixed(0)}tok/s`} total=${t.totalMs.toFixed(0)}ms`,
    );
  }

  async function route(req, res) {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
    const allow = (methods) => {
      if (!methods.includes(req.method)) {
        throw new ApiError(405, `${req.method} is not allowed on ${path}; use ${methods.join(' or ')}.`, {
          code: 'method_not_allowed',
        });
      }
    };
    switch (path) {
      case '/health':
        allow(['GET']);
        return sendJson(res, 200, {
          status: 'ok',
          model: engine.modelId,
          busy: engine.busy,
          queued: engine.queued,
          threads: engine.threads,
          context_size: engine.contextSize,
        });
      case '/v1/models':
        allow(['GET']);
        return sendJson(res, 200, { object: 'list', data: [modelObject(engine.modelId, created)] });
      case `/v1/models/${engine.modelId}`:
        allow(['GET']);
        return sendJson(res, 200, modelObject(engine.modelId, created));
      case '/v1/chat/completions':
        allow(['POST']);
        return chatCompletions(req, res);
      default:
        throw new ApiError(404, `Unknown route ${req.method} ${path}.`, { code: 'unknown_url' });
    }
  }

  async function handle(req, res) {
    res.setHeader('x-request-id', randomUUID());
    try {
      await route(req, res);
    } catch (err) {
      if (err instanceof ApiError) {
        sendError(res, err);
        return;
      }
      log(`internal error: ${err?.stack ?? err}`);
      sendError(res, new ApiError(500, `The local model failed: ${err?.message ?? err}`, { type: 'server_error' }));
    }
  }

  return { handle, inflight };
}

async function main(argv) {
  let opts;
  try {
    opts = parseCli(argv);
  } catch (err) {
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const log = opts.quiet ? () => {} : (line) => process.stderr.write(`[local-model] ${line}\n`);

  let modelPath = opts.model;
  if (modelPath === undefined) {
    try {
      modelPath = await ensureModel({ quiet: opts.quiet });
    } catch (err) {
      process.stderr.write(`[local-model] ${err instanceof FetchModelError ? err.message : err.stack}\n`);
      return 1;
    }
  } else if (!existsSync(modelPath)) {
    process.stderr.write(
      `[local-model] no model file at ${modelPath} (from --model). Leave --model out to use the cached demo model.\n`,
    );
    return 1;
  }

  const loadStarted = performance.now();
  const engine = await loadEngine({
    modelPath,
    modelId: opts.modelId,
    threads: opts.threads,
    contextSize: opts.contextSize,
    log,
  });
  const loadMs = performance.now() - loadStarted;
  const { handle, inflight } = makeHandler({ engine, log, created: 1738886400 });
  const server = createServer(handle);
  server.keepAliveTimeout = 5000;

  try {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, resolve);
    });
  } catch (err) {
    process.stderr.write(`[local-model] cannot listen on ${opts.host}:${opts.port}: ${err.message}\n`);
    await engine.close();
    return 1;
  }
  const { address, port } = server.address();
  const shownHost = address.includes(':') ? `[${address}]` : address;
  const rss = (process.memoryUsage().rss / 2 ** 20).toFixed(0);
  process.stdout.write(
    `local model ready on http://${shownHost}:${port} (model ${engine.modelId}, ${engine.threads} thread(s), ` +
      `context ${engine.contextSize} tokens, loaded in ${(loadMs / 1000).toFixed(1)} s, rss ${rss} MiB)\n`,
  );

  let stopping = false;
  const stop = async (signal) => {
    if (stopping) process.exit(130);
    stopping = true;
    log(`${signal}: shutting down`);
    server.close();
    server.closeAllConnections(); // aborts running generations through their response 'close' events
    await Promise.race([Promise.allSettled([...inflight]), new Promise((r) => setTimeout(r, 3000).unref())]);
    await engine.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  return null;
}

try {
  const code = await main(process.argv.slice(2));
  if (code !== null) process.exitCode = code;
} catch (err) {
  process.stderr.write(`[local-model] failed to start: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
}
