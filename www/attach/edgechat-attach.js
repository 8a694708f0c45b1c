// Reads the files a user attaches (attach button, paste, drop) into the edge's attachment JSON
// (docs/protocol.md `attachments`): images are decoded and, when their long side is over `maxSide` (1,568 px, the
// size Anthropic scales to), drawn smaller on a canvas and encoded again in their own type where the browser can
// (JPEG, PNG, WebP; a GIF becomes PNG); PDFs pass through as they are. Loaded on first use only (a dynamic import
// from the widget's and the app's shared model, www/src/state/attach.rs), so pages that never attach a file never
// download it. Copied next to the widget and the app by Trunk (www/app/index.html) and build-embed.sh.

/** The messages shown for a file that cannot be attached (one place, so they can be translated). */
export const STRINGS = {
  type: (name) => `${name}: this type of file cannot be attached here.`,
  model: (name, what) => `${name}: the selected model does not take ${what}.`,
  large: (name, max) => `${name} is larger than the ${(max / 1048576).toFixed(1)} MB allowed.`,
  unreadable: (name) => `${name} could not be read.`,
};

const REENCODE = ['image/jpeg', 'image/png', 'image/webp'];

function base64(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).slice(String(r.result).indexOf(',') + 1));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

/** An image file as it will be sent: its own bytes when small enough, else a downscaled copy. */
async function image(file, maxSide) {
  const bitmap = await createImageBitmap(file);
  const { width, height } = bitmap;
  const long = Math.max(width, height);
  if (long <= maxSide) {
    bitmap.close();
    return { blob: file, type: file.type, width, height };
  }
  const scale = maxSide / long;
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const g = canvas.getContext('2d');
  g.imageSmoothingQuality = 'high';
  g.drawImage(bitmap, 0, 0, w, h);
  bitmap.close();
  const want = REENCODE.includes(file.type) ? file.type : 'image/png';
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, want, 0.9));
  if (!blob) throw new Error('encode');
  // A browser that cannot encode the type (WebP in some) answers PNG: send what it made.
  return { blob, type: blob.type || want, width: w, height: h };
}

/**
 * Reads `files` (a FileList or an array of File) for one message. `opts`: `maxSide`, `maxBytes`, `types` (allowed
 * MIME types), `vision` / `documents` (what the selected model takes). Answers `{ files, errors }`: the
 * attachments (`{kind, media_type, name, data, width?, height?}`) and a message per file that was refused.
 */
export async function read(files, opts) {
  const out = { files: [], errors: [] };
  for (const file of Array.from(files ?? [])) {
    const name = file.name || 'file';
    const isImage = file.type.startsWith('image/');
    const isPdf = file.type === 'application/pdf';
    if ((!isImage && !isPdf) || !opts.types.includes(file.type)) {
      out.errors.push(STRINGS.type(name));
      continue;
    }
    if (isImage ? !opts.vision : !opts.documents) {
      out.errors.push(STRINGS.model(name, isImage ? 'images' : 'PDF documents'));
      continue;
    }
    try {
      const read = isImage ? await image(file, opts.maxSide) : { blob: file, type: file.type };
      if (read.blob.size > opts.maxBytes) {
        out.errors.push(STRINGS.large(name, opts.maxBytes));
        continue;
      }
      const a = { kind: isImage ? 'image' : 'document', media_type: read.type, name, data: await base64(read.blob) };
      if (read.width) Object.assign(a, { width: read.width, height: read.height });
      out.files.push(a);
    } catch {
      out.errors.push(STRINGS.unreadable(name));
    }
  }
  return out;
}
