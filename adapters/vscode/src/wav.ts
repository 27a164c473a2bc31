// Minimal RIFF/WAVE reader: checks what the daemon sent is PCM audio and how long it is.

import { ProtocolError } from "./errors";

export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Byte offset and length of the PCM samples. */
  dataOffset: number;
  dataLength: number;
  /** Seconds. */
  duration: number;
}

function tag(view: DataView, at: number): string {
  return String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
}

/** Parses the header chunks of a PCM WAV file; throws ProtocolError when it is not one. */
export function parseWav(bytes: Uint8Array): WavInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 12 || tag(view, 0) !== "RIFF" || tag(view, 8) !== "WAVE") {
    throw new ProtocolError("the daemon's audio is not a WAV file");
  }
  let pos = 12;
  let fmt: { channels: number; sampleRate: number; bitsPerSample: number; format: number } | undefined;
  while (pos + 8 <= bytes.byteLength) {
    const id = tag(view, pos);
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === "fmt " && size >= 16 && body + 16 <= bytes.byteLength) {
      fmt = {
        format: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
    } else if (id === "data") {
      if (!fmt) throw new ProtocolError("WAV data chunk before its fmt chunk");
      // Streamed WAVs may carry 0 or 0xFFFFFFFF as size: the data then runs to the end of the file.
      const available = bytes.byteLength - body;
      const length = size === 0 || size > available ? available : size;
      const frame = (fmt.channels * fmt.bitsPerSample) / 8;
      if ((fmt.format !== 1 && fmt.format !== 0xfffe) || !fmt.sampleRate || !frame) {
        throw new ProtocolError(`unsupported WAV format ${fmt.format} (${fmt.bitsPerSample}-bit, ${fmt.channels} ch)`);
      }
      return {
        sampleRate: fmt.sampleRate,
        channels: fmt.channels,
        bitsPerSample: fmt.bitsPerSample,
        dataOffset: body,
        dataLength: length,
        duration: Math.floor(length / frame) / fmt.sampleRate,
      };
    }
    pos = body + size + (size % 2); // chunks are padded to even sizes
  }
  throw new ProtocolError("the daemon's WAV has no data chunk");
}
