// The wasm floor's Worker: the reference's `/widget` handler (../reference-worker.mjs) with its computing in Rust
// (src/lib.rs, built by build.sh into pkg/). Served on every path.
import { widget } from './reference-worker.mjs';
import wasm from './pkg/edgechat_wasm_floor_bg.wasm';
import { Frames, initSync, prepare } from './pkg/edgechat_wasm_floor.js';

initSync({ module: wasm });

const wasmWork = {
  read: (req) => req.arrayBuffer().then((b) => new Uint8Array(b)),
  prepare(bytes) {
    try {
      return { body: prepare(bytes) };
    } catch (e) {
      const s = String(e);
      const space = s.indexOf(' ');
      return { status: Number(s.slice(0, space)), message: s.slice(space + 1) };
    }
  },
  frames: () => new Frames(),
};

export default {
  fetch: (req, env, ctx) => widget(req, env, ctx, wasmWork),
};
