// Content parts with files (images, PDFs), validated the way each provider validates them, so a request the real
// API would reject is rejected here too, in the provider's own error shape (RequestError: the server renders it).
// Shapes (from the API references and the official SDKs' types):
// - Chat Completions `messages[].content[]`: {type:'text',text} | {type:'image_url',image_url:{url,detail?}} |
//   {type:'file',file:{file_data?,file_id?,filename?}} (| input_audio, refusal): `url` is an http(s) URL or a
//   base64 data URL of an image type; `file_data` is a base64 data URL.
// - Responses `input[].content[]`: {type:'input_text',text} | {type:'input_image',image_url?|file_id?,detail} |
//   {type:'input_file',file_data?|file_url?|file_id?,filename?} (detail is required by the SDK types).
// - Anthropic `messages[].content[]`: {type:'text',text} | {type:'image',source} | {type:'document',source,title?}
//   with source {type:'base64',media_type,data} | {type:'url',url}; images: jpeg/png/gif/webp, documents: PDF.
// Each accepted file is returned as { kind, mediaType, bytes?, url?, width?, height? } (dimensions read from the
// image header), which the server records on the request (`entry.files`) for tests to inspect.
import { RequestError } from './plan.mjs';

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Width and height from a PNG, JPEG, GIF or WebP header, with the type the bytes really are; null if none. */
export function imageInfo(buf) {
  if (buf.length >= 24 && buf.readUInt32BE(0) === 0x89504e47) {
    return { type: 'image/png', width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  }
  if (buf.length >= 10 && buf.toString('latin1', 0, 3) === 'GIF') {
    return { type: 'image/gif', width: buf.readUInt16LE(6), height: buf.readUInt16LE(8) };
  }
  if (buf.length >= 30 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') {
    const chunk = buf.toString('latin1', 12, 16);
    if (chunk === 'VP8X')
      return { type: 'image/webp', width: buf.readUIntLE(24, 3) + 1, height: buf.readUIntLE(27, 3) + 1 };
    if (chunk === 'VP8L') {
      const b = buf.readUInt32LE(21);
      return { type: 'image/webp', width: (b & 0x3fff) + 1, height: ((b >> 14) & 0x3fff) + 1 };
    }
    if (chunk === 'VP8 ')
      return { type: 'image/webp', width: buf.readUInt16LE(26) & 0x3fff, height: buf.readUInt16LE(28) & 0x3fff };
  }
  if (buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xd8) {
    let i = 2;
    while (i + 9 < buf.length) {
      if (buf[i] !== 0xff) return null;
      const marker = buf[i + 1];
      const len = buf.readUInt16BE(i + 2);
      // SOF0..SOF15 except DHT (c4), JPG (c8), DAC (cc).
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return { type: 'image/jpeg', height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
      }
      i += 2 + len;
    }
  }
  return null;
}

/** A PNG header of `w` x `h` (signature and IHDR: what a provider reads first), for tests. */
export function pngOf(w, h) {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(w, 16);
  b.writeUInt32BE(h, 20);
  b.set([8, 6, 0, 0, 0], 24);
  return b;
}

function decode(data, fail) {
  if (typeof data !== 'string' || !data || data.length % 4 !== 0 || !B64.test(data)) fail();
  return Buffer.from(data, 'base64');
}

function dataUrl(s) {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(s);
  return m ? { mediaType: m[1], data: m[2] } : null;
}

// ---- OpenAI (Chat Completions and Responses) ----

const openaiError = (message, param, code = 'invalid_value') => new RequestError(400, message, { param, code });
const missing = (param) => openaiError(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');

function openaiImage(url, param) {
  if (typeof url !== 'string') throw missing(param);
  if (/^https?:\/\//.test(url)) return { kind: 'image', url };
  const d = dataUrl(url);
  if (!d) {
    throw openaiError(
      `Invalid image URL: '${param}'. Expected a base64-encoded data URL with an image MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got a value without the 'data:' prefix.`,
      param,
      'invalid_image_url',
    );
  }
  if (!IMAGE_TYPES.includes(d.mediaType)) {
    throw openaiError(
      `Invalid image URL: '${param}'. Expected a base64-encoded data URL with an image MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got unsupported MIME type '${d.mediaType}'.`,
      param,
      'invalid_image_url',
    );
  }
  const bytes = decode(d.data, () => {
    throw openaiError(`Invalid base64 image_url: '${param}'.`, param, 'invalid_image_url');
  });
  const info = imageInfo(bytes);
  if (!info) {
    throw openaiError(
      "You uploaded an unsupported image. Please make sure your image has of one the following formats: ['png', 'jpeg', 'gif', 'webp'].",
      param,
      'invalid_image_format',
    );
  }
  return { kind: 'image', mediaType: info.type, bytes, width: info.width, height: info.height };
}

function openaiFile(fileData, param) {
  const d = typeof fileData === 'string' ? dataUrl(fileData) : null;
  if (!d)
    throw openaiError(`Invalid file data: '${param}'. Expected a base64-encoded data URL.`, param, 'invalid_value');
  const bytes = decode(d.data, () => {
    throw openaiError(`Invalid file data: '${param}'. The base64 data could not be decoded.`, param);
  });
  if (d.mediaType !== 'application/pdf' || bytes.toString('latin1', 0, 5) !== '%PDF-') {
    throw openaiError(
      `Invalid file data: '${param}'. Expected a PDF file, but got MIME type '${d.mediaType}'.`,
      param,
      'unsupported_file',
    );
  }
  return { kind: 'document', mediaType: 'application/pdf', bytes };
}

/** Validates a Chat Completions message's content; returns its files. */
export function chatParts(content, at) {
  if (content == null || typeof content === 'string') return [];
  if (!Array.isArray(content))
    throw openaiError(`Invalid type for '${at}': expected a string or an array.`, at, 'invalid_type');
  const files = [];
  content.forEach((p, j) => {
    const param = `${at}[${j}]`;
    const types = ['text', 'image_url', 'input_audio', 'refusal', 'file'];
    if (!p || typeof p !== 'object' || !types.includes(p.type)) {
      throw openaiError(
        `Invalid value: '${p?.type}'. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', and 'file'.`,
        `${param}.type`,
      );
    }
    if (p.type === 'text' && typeof p.text !== 'string') throw missing(`${param}.text`);
    if (p.type === 'image_url') {
      if (!p.image_url || typeof p.image_url !== 'object') throw missing(`${param}.image_url`);
      files.push(openaiImage(p.image_url.url, `${param}.image_url.url`));
    }
    if (p.type === 'file') {
      if (!p.file || typeof p.file !== 'object') throw missing(`${param}.file`);
      if (p.file.file_id == null) files.push(openaiFile(p.file.file_data, `${param}.file.file_data`));
    }
  });
  return files;
}

/** Validates a Responses input item's content; returns its files. */
export function responsesParts(content, at) {
  if (content == null || typeof content === 'string') return [];
  if (!Array.isArray(content))
    throw openaiError(`Invalid type for '${at}': expected a string or an array.`, at, 'invalid_type');
  const files = [];
  content.forEach((p, j) => {
    const param = `${at}[${j}]`;
    const types = ['input_text', 'input_image', 'input_file', 'output_text', 'refusal', 'input_audio'];
    if (!p || typeof p !== 'object' || !types.includes(p.type)) {
      throw openaiError(
        `Invalid value: '${p?.type}'. Supported values are: 'input_text', 'input_image', 'output_text', 'refusal', 'input_file', and 'input_audio'.`,
        `${param}.type`,
      );
    }
    if (p.type === 'input_image') {
      if (!['low', 'high', 'auto'].includes(p.detail)) throw missing(`${param}.detail`);
      if (p.file_id == null) files.push(openaiImage(p.image_url, `${param}.image_url`));
    }
    if (p.type === 'input_file') {
      if (typeof p.file_url === 'string') {
        if (!/^https?:\/\//.test(p.file_url))
          throw openaiError(`Invalid URL: '${param}.file_url'.`, `${param}.file_url`);
        files.push({ kind: 'document', url: p.file_url });
      } else if (p.file_id == null) {
        files.push(openaiFile(p.file_data, `${param}.file_data`));
      }
    }
  });
  return files;
}

// ---- Anthropic ----

const anthropicError = (message) => new RequestError(400, message);

function anthropicSource(kind, source, at) {
  const where = `${at}.${kind}.source`;
  if (!source || typeof source !== 'object') throw anthropicError(`${at}.${kind}.source: Field required`);
  if (source.type === 'url') {
    if (typeof source.url !== 'string') throw anthropicError(`${where}.url.url: Field required`);
    if (!/^https?:\/\//.test(source.url)) throw anthropicError(`${where}.url.url: Input should be a valid URL`);
    return { kind, url: source.url };
  }
  if (source.type !== 'base64') {
    throw anthropicError(
      `${where}: Input tag '${source.type}' found using 'type' does not match any of the expected tags: 'base64', 'url'`,
    );
  }
  const allowed = kind === 'image' ? IMAGE_TYPES : ['application/pdf'];
  if (!allowed.includes(source.media_type)) {
    const list = allowed.map((t) => `'${t}'`);
    throw anthropicError(
      `${where}.base64.media_type: Input should be ${list.length > 1 ? `${list.slice(0, -1).join(', ')} or ${list.at(-1)}` : list[0]}`,
    );
  }
  if (typeof source.data !== 'string') throw anthropicError(`${where}.base64.data: Field required`);
  const bytes = decode(source.data, () => {
    throw anthropicError(`${where}.base64.data: Invalid base64 data`);
  });
  if (kind === 'document') {
    if (bytes.toString('latin1', 0, 5) !== '%PDF-') throw anthropicError(`${at}: The PDF specified was not valid.`);
    return { kind, mediaType: source.media_type, bytes };
  }
  const info = imageInfo(bytes);
  if (!info) throw anthropicError(`${at}.image.source.base64: Could not process image`);
  if (info.type !== source.media_type) {
    throw anthropicError(
      `${at}.image.source.base64.data: Image does not match the provided media type ${source.media_type}`,
    );
  }
  return { kind, mediaType: info.type, bytes, width: info.width, height: info.height };
}

/** Validates an Anthropic message's content blocks; returns its files. `at` is `messages.N.content`. */
export function anthropicParts(content, at) {
  if (content == null || typeof content === 'string') return [];
  if (!Array.isArray(content)) throw anthropicError(`${at}: Input should be a valid list`);
  const files = [];
  content.forEach((p, j) => {
    const here = `${at}.${j}`;
    if (p?.type === 'image' || p?.type === 'document') files.push(anthropicSource(p.type, p.source, here));
  });
  return files;
}
