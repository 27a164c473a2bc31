// multipart/form-data bodies as one ArrayBuffer: Obsidian's requestUrl takes bytes, not FormData.

export interface FormFile {
  /** Form field name (the daemon expects "file"). */
  field: string;
  filename: string;
  contentType: string;
  data: ArrayBuffer | Uint8Array;
}

export interface MultipartBody {
  body: ArrayBuffer;
  contentType: string;
}

// Same escaping as browsers (WHATWG multipart/form-data encoding): quotes and line breaks in names.
function escapeName(name: string): string {
  return name.replace(/\r/g, "%0D").replace(/\n/g, "%0A").replace(/"/g, "%22");
}

// Values keep their text but line breaks are normalised to CRLF, as browsers send them.
function normaliseNewlines(value: string): string {
  return value.replace(/\r\n|\r|\n/g, "\r\n");
}

function randomBoundary(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return "----ownvoice" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Encodes text fields and files; the boundary is random unless given (tests). */
export function buildMultipart(
  fields: ReadonlyArray<readonly [string, string]>,
  files: readonly FormFile[],
  boundary: string = randomBoundary(),
): MultipartBody {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const [name, value] of fields) {
    parts.push(
      enc.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(name)}"\r\n\r\n` +
          `${normaliseNewlines(value)}\r\n`,
      ),
    );
  }
  for (const f of files) {
    const data = f.data instanceof Uint8Array ? f.data : new Uint8Array(f.data);
    // The boundary has 128 random bits, so it cannot plausibly occur inside a recording.
    parts.push(
      enc.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(f.field)}"; ` +
          `filename="${escapeName(f.filename)}"\r\nContent-Type: ${f.contentType}\r\n\r\n`,
      ),
    );
    parts.push(data);
    parts.push(enc.encode("\r\n"));
  }
  parts.push(enc.encode(`--${boundary}--\r\n`));
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return { body: out.buffer, contentType: `multipart/form-data; boundary=${boundary}` };
}

const AUDIO_TYPES: Record<string, string> = {
  wav: "audio/wav",
  flac: "audio/flac",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  opus: "audio/ogg",
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  webm: "audio/webm",
  txt: "text/plain; charset=utf-8",
};

/** Content type for an attachment's extension (lower case, no dot). */
export function contentTypeFor(extension: string): string {
  return AUDIO_TYPES[extension.toLowerCase()] ?? "application/octet-stream";
}
