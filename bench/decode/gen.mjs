// Writes the benchmark stream: ~N bytes of OpenAI chat.completion.chunk events with short text deltas, then a
// finish chunk, a usage chunk and [DONE]. Same content as benches/decode.rs's generator.
const WORDS = ['Hello', ' world', ', this', ' is', ' a café', ' \\"quoted\\"', ' line\\n', ' 🦀'];

export function openaiStream(targetBytes) {
  const parts = [];
  let size = 0;
  for (let i = 0; size < targetBytes; i++) {
    const w = WORDS[i % WORDS.length];
    const ev =
      'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1741570283,' +
      '"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,' +
      `"delta":{"content":"${w}"},"logprobs":null,"finish_reason":null}]}\n\n`;
    parts.push(ev);
    size += Buffer.byteLength(ev);
  }
  parts.push(
    'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
  );
  parts.push(
    'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":20000,"total_tokens":20010}}\n\n',
  );
  parts.push('data: [DONE]\n\n');
  return Buffer.from(parts.join(''));
}
