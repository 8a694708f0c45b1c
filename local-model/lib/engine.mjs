// The model side: loads the GGUF with node-llama-cpp on the CPU and runs one generation at a time.
//
// Requests queue in arrival order (FIFO); a request whose client leaves while it waits is dropped from the queue,
// and one that leaves while generating is stopped (its AbortSignal fires and node-llama-cpp stops at the next
// token). One context sequence is reused, so a prompt that shares a prefix with the previous one skips re-reading it.

import { getLlama, JinjaTemplateChatWrapper, LlamaChat } from 'node-llama-cpp';
import { ApiError } from './openai.mjs';
import { toGbnfJsonSchema } from './schema.mjs';

/** Thrown to a caller whose request was aborted before it produced anything. */
export class AbortedError extends Error {
  constructor() {
    super('request aborted by the client');
    this.name = 'AbortedError';
  }
}

/** The server's default sampling temperature when a request leaves it out (OpenAI's 1.0 is too wild for 135M). */
export const DEFAULT_TEMPERATURE = 0.7;

/**
 * Loads the model. Options: modelPath, modelId, threads (default 1: more threads than free cores makes llama.cpp
 * spin-wait, 0.3 tokens/s with 4 threads on 2 busy cores against ~150 with 1), contextSize.
 */
export async function loadEngine({ modelPath, modelId, threads = 1, contextSize = 4096, log = () => {} }) {
  let llama;
  try {
    llama = await getLlama({
      gpu: false,
      build: 'never',
      skipDownload: true,
      maxThreads: threads,
      logLevel: 'error',
      progressLogs: false,
    });
  } catch (err) {
    throw new Error(
      `node-llama-cpp found no prebuilt llama.cpp binary for ${process.platform}-${process.arch}: ${err.message}. ` +
        `This package pins @node-llama-cpp/linux-x64; on another platform install the matching ` +
        `@node-llama-cpp/<platform>@3.21.1 package in local-model/.`,
      { cause: err },
    );
  }
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize, threads, sequences: 1 });
  const sequence = context.getSequence();
  const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: chatWrapperFor(model) });
  log(`chat template: ${chat.chatWrapper.wrapperName}`);
  return new Engine({ llama, model, sequence, chat, modelId, threads, contextSize: context.contextSize });
}

/**
 * The model's own Jinja chat template when the GGUF has one, rendered as written. (node-llama-cpp's "auto" maps
 * SmolLM2's template to its ChatML wrapper, which adds a BOS token the model does not use (`<|im_start|>` twice)
 * and drops the template's default system prompt.) Falls back to "auto" for a GGUF without a template.
 */
function chatWrapperFor(model) {
  const template = model.fileInfo.metadata?.tokenizer?.chat_template;
  if (typeof template !== 'string' || template.length === 0) return 'auto';
  return new JinjaTemplateChatWrapper({
    template,
    tokenizer: model.tokenizer,
    trimLeadingWhitespaceInResponses: false, // continuing "One, two," must be able to start with a space
  });
}

class Engine {
  #llama;
  #model;
  #sequence;
  #chat;
  #queue = [];
  #running = null;
  #jsonGrammar = null;
  #schemaGrammars = new Map();
  #closed = false;

  constructor({ llama, model, sequence, chat, modelId, threads, contextSize }) {
    this.#llama = llama;
    this.#model = model;
    this.#sequence = sequence;
    this.#chat = chat;
    this.modelId = modelId;
    this.threads = threads;
    this.contextSize = contextSize;
  }

  /** Requests waiting for their turn (not counting the one generating). */
  get queued() {
    return this.#queue.length;
  }

  /** True while a generation runs. */
  get busy() {
    return this.#running !== null;
  }

  /**
   * Resolves the grammar for a response format before the request queues, so schema errors are a prompt 400.
   * @returns {Promise<import("node-llama-cpp").LlamaGrammar | undefined>}
   */
  async grammarFor(responseFormat) {
    if (responseFormat.type === 'json_object') {
      this.#jsonGrammar ??= await this.#llama.getGrammarFor('json');
      return this.#jsonGrammar;
    }
    if (responseFormat.type !== 'json_schema') return undefined;
    const gbnfSchema = toGbnfJsonSchema(responseFormat.schema);
    const key = JSON.stringify(gbnfSchema);
    let grammar = this.#schemaGrammars.get(key);
    if (!grammar) {
      try {
        grammar = await this.#llama.createGrammarForJsonSchema(gbnfSchema);
      } catch (err) {
        throw new ApiError(400, `Unsupported JSON schema: ${err.message}`, {
          param: 'response_format.json_schema.schema',
          code: 'invalid_json_schema',
        });
      }
      if (this.#schemaGrammars.size >= 32) this.#schemaGrammars.delete(this.#schemaGrammars.keys().next().value);
      this.#schemaGrammars.set(key, grammar);
    }
    return grammar;
  }

  /** Number of tokens the rendered prompt takes (chat template applied, generation prompt included). */
  countPromptTokens(history) {
    const last = history[history.length - 1];
    const withReply = last?.type === 'model' ? history : [...history, { type: 'model', response: [] }];
    const { contextText } = this.#chat.chatWrapper.generateContextState({ chatHistory: withReply });
    return contextText.tokenize(this.#model.tokenizer).length;
  }

  /**
   * Counts the prompt's tokens and checks it leaves room to generate; call before answering the client so a
   * prompt that is too long is a clean 400. Returns the prompt token count.
   */
  checkPromptFits(history) {
    const promptTokens = this.countPromptTokens(history);
    if (this.contextSize - promptTokens < 1) {
      throw new ApiError(
        400,
        `This model's context is ${this.contextSize} tokens; the messages take ${promptTokens}. Shorten them.`,
        { param: 'messages', code: 'context_length_exceeded' },
      );
    }
    return promptTokens;
  }

  /**
   * Generates one reply after waiting its turn. `onText` gets each piece of text as it is decoded.
   * Resolves to { text, stopReason, usage, timing }; rejects with AbortedError when `signal` fired before
   * anything was generated, ApiError when the prompt does not fit the context or the engine is closed.
   */
  async generate(params, { signal, onText = () => {}, grammar, promptTokens }) {
    if (this.#closed) throw new ApiError(503, 'The local model is shutting down.', { type: 'server_error' });
    promptTokens ??= this.checkPromptFits(params.history);
    await this.#waitTurn(signal);
    try {
      const room = this.contextSize - promptTokens;
      return await this.#run(params, { signal, onText, grammar, promptTokens, room });
    } finally {
      this.#running = null;
      this.#queue.shift()?.start();
    }
  }

  #waitTurn(signal) {
    if (signal?.aborted) return Promise.reject(new AbortedError());
    if (this.#running === null) {
      this.#running = {};
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const entry = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.#running = {};
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.#queue.indexOf(entry);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(new AbortedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(entry);
    });
  }

  async #run(params, { signal, onText, grammar, promptTokens, room }) {
    const before = this.#sequence.tokenMeter.getState();
    const started = performance.now();
    let firstTokenAt = null;
    const repeatPenalty = {};
    if (params.presencePenalty !== undefined) repeatPenalty.presencePenalty = params.presencePenalty;
    if (params.frequencyPenalty !== undefined) repeatPenalty.frequencyPenalty = params.frequencyPenalty;
    let result;
    try {
      result = await this.#chat.generateResponse(params.history, {
        signal,
        stopOnAbortSignal: true,
        maxTokens: Math.min(params.maxTokens ?? room, room),
        temperature: params.temperature ?? DEFAULT_TEMPERATURE,
        topP: params.topP,
        seed: params.seed,
        repeatPenalty,
        grammar,
        customStopTriggers: params.stop.length > 0 ? params.stop : undefined,
        onTextChunk: (text) => {
          firstTokenAt ??= performance.now();
          if (text.length > 0) onText(text);
        },
      });
    } catch (err) {
      if (signal?.aborted) throw new AbortedError();
      throw err;
    }
    const used = this.#sequence.tokenMeter.diff(before);
    const completionTokens = used.usedOutputTokens;
    const elapsed = performance.now() - started;
    return {
      text: result.response,
      stopReason: result.metadata.stopReason,
      usage: {
        promptTokens,
        completionTokens,
        cachedTokens: Math.max(0, promptTokens - used.usedInputTokens),
      },
      timing: {
        totalMs: elapsed,
        firstTokenMs: firstTokenAt === null ? null : firstTokenAt - started,
        tokensPerSecond:
          firstTokenAt !== null && completionTokens > 1
            ? (completionTokens - 1) / ((performance.now() - firstTokenAt) / 1000)
            : null,
      },
    };
  }

  /** Frees the model and the native backend; later `generate` calls get a 503. Abort running requests first. */
  async close() {
    this.#closed = true;
    await this.#llama.dispose();
  }
}
