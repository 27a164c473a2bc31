// RIFF/WAVE parsing and joining, so sentence clips can be checked and exported as one file.

import { ProtocolError } from "./errors";

export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** 1 = integer PCM, 3 = IEEE float, 0xFFFE = extensible. */
  format: number;
  dataOffset: number;
  dataLength: number;
  /** Seconds of audio in the data chunk. */
  duration: number;
}

function fourcc(view: DataView, at: number): string {
  return String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
}

/** Reads the header of a WAV file; throws ProtocolError when it is not one. */
export function parseWav(buffer: ArrayBuffer): WavInfo {
  const view = new DataView(buffer);
  if (buffer.byteLength < 12 || fourcc(view, 0) !== "RIFF" || fourcc(view, 8) !== "WAVE") {
    throw new ProtocolError("the daemon's audio is not a WAV file (no RIFF/WAVE header)");
  }
  let fmt: Omit<WavInfo, "dataOffset" | "dataLength" | "duration"> | undefined;
  let at = 12;
  while (at + 8 <= buffer.byteLength) {
    const id = fourcc(view, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === "fmt ") {
      if (size < 16 || body + 16 > buffer.byteLength) throw new ProtocolError("WAV fmt chunk is truncated");
      fmt = {
        format: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
    } else if (id === "data") {
      if (!fmt) throw new ProtocolError("WAV data chunk comes before its fmt chunk");
      // Streaming writers put 0 or 0xFFFFFFFF here; the real length is whatever follows.
      const available = buffer.byteLength - body;
      const dataLength = size === 0 || size === 0xffffffff || size > available ? available : size;
      const frameBytes = fmt.channels * (fmt.bitsPerSample / 8);
      if (!fmt.sampleRate || !frameBytes) throw new ProtocolError("WAV header has a zero rate or sample size");
      return { ...fmt, dataOffset: body, dataLength, duration: dataLength / frameBytes / fmt.sampleRate };
    }
    at = body + size + (size % 2); // chunks are padded to even sizes
  }
  throw new ProtocolError("WAV file has no data chunk");
}

/** A canonical 44-byte header for 16-bit (or other integer) PCM. */
export function wavHeader(sampleRate: number, channels: number, bitsPerSample: number, dataLength: number): ArrayBuffer {
  const header = new ArrayBuffer(44);
  const v = new DataView(header);
  const put = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  const blockAlign = channels * (bitsPerSample / 8);
  put(0, "RIFF");
  v.setUint32(4, 36 + dataLength, true);
  put(8, "WAVE");
  put(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * blockAlign, true);
  v.setUint16(32, blockAlign, true);
  v.setUint16(34, bitsPerSample, true);
  put(36, "data");
  v.setUint32(40, dataLength, true);
  return header;
}

/** Joins WAV clips of one format into one WAV, with `gapSeconds` of silence between clips. */
export function concatWav(clips: ArrayBuffer[], gapSeconds = 0): ArrayBuffer {
  if (clips.length === 0) throw new ProtocolError("nothing to join: no audio clips");
  const infos = clips.map(parseWav);
  const first = infos[0];
  for (const [i, info] of infos.entries()) {
    if (info.format !== 1 && info.format !== 0xfffe) {
      throw new ProtocolError(`clip ${i + 1} is not integer PCM (format ${info.format})`);
    }
    if (
      info.sampleRate !== first.sampleRate ||
      info.channels !== first.channels ||
      info.bitsPerSample !== first.bitsPerSample
    ) {
      throw new ProtocolError(
        `clip ${i + 1} is ${info.sampleRate} Hz/${info.channels} ch/${info.bitsPerSample} bit, ` +
          `clip 1 is ${first.sampleRate} Hz/${first.channels} ch/${first.bitsPerSample} bit`,
      );
    }
  }
  const blockAlign = first.channels * (first.bitsPerSample / 8);
  const gapBytes = Math.round(Math.max(0, gapSeconds) * first.sampleRate) * blockAlign;
  // Odd trailing bytes of a clip would shift every later sample: keep whole frames only.
  const lengths = infos.map((info) => info.dataLength - (info.dataLength % blockAlign));
  const total = lengths.reduce((a, b) => a + b, 0) + gapBytes * (clips.length - 1);
  if (total > 0xffffffff - 36) throw new ProtocolError("the joined audio would exceed the 4 GiB WAV limit");
  const out = new Uint8Array(44 + total); // zero-filled, so gaps are silence
  out.set(new Uint8Array(wavHeader(first.sampleRate, first.channels, first.bitsPerSample, total)), 0);
  let at = 44;
  clips.forEach((clip, i) => {
    out.set(new Uint8Array(clip, infos[i].dataOffset, lengths[i]), at);
    at += lengths[i] + (i < clips.length - 1 ? gapBytes : 0);
  });
  return out.buffer;
}
