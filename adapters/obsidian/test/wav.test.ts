import assert from "node:assert/strict";
import { test } from "node:test";
import { ProtocolError } from "../src/errors";
import { concatWav, parseWav, wavHeader } from "../src/wav";
import { silentWav } from "./support/audio";

function pcmWav(samples: number[], sampleRate = 24000): ArrayBuffer {
  const out = new Uint8Array(44 + samples.length * 2);
  out.set(new Uint8Array(wavHeader(sampleRate, 1, 16, samples.length * 2)), 0);
  const v = new DataView(out.buffer);
  samples.forEach((s, i) => v.setInt16(44 + i * 2, s, true));
  return out.buffer;
}

test("parseWav reads rate, channels and duration of a 24 kHz clip", () => {
  const info = parseWav(silentWav(1.5));
  assert.equal(info.sampleRate, 24000);
  assert.equal(info.channels, 1);
  assert.equal(info.bitsPerSample, 16);
  assert.equal(info.dataOffset, 44);
  assert.equal(info.duration, 1.5);
});

test("parseWav skips LIST chunks and odd padding before the data", () => {
  const base = new Uint8Array(pcmWav([1, 2, 3]));
  const list = new Uint8Array([0x4c, 0x49, 0x53, 0x54, 3, 0, 0, 0, 65, 66, 67, 0]); // "LIST", size 3 + pad
  const out = new Uint8Array(base.length + list.length);
  out.set(base.subarray(0, 36), 0);
  out.set(list, 36);
  out.set(base.subarray(36), 36 + list.length);
  const info = parseWav(out.buffer);
  assert.equal(info.dataOffset, 36 + list.length + 8);
  assert.equal(info.dataLength, 6);
});

test("parseWav trusts the bytes present when a streaming writer left the data size at 0xFFFFFFFF", () => {
  const buf = pcmWav([1, 2, 3, 4]);
  new DataView(buf).setUint32(40, 0xffffffff, true);
  assert.equal(parseWav(buf).dataLength, 8);
});

test("parseWav rejects JSON, truncated and headerless bodies with a ProtocolError", () => {
  const json = new TextEncoder().encode('{"ok": false}').buffer as ArrayBuffer;
  assert.throws(() => parseWav(json), ProtocolError);
  assert.throws(() => parseWav(new ArrayBuffer(0)), /RIFF/);
  assert.throws(() => parseWav(silentWav(0.1).slice(0, 20)), ProtocolError);
});

test("concatWav joins samples in order with silence between clips", () => {
  const joined = concatWav([pcmWav([1, 2], 10), pcmWav([3], 10)], 0.2);
  const info = parseWav(joined);
  assert.equal(info.sampleRate, 10);
  const v = new DataView(joined, info.dataOffset, info.dataLength);
  const samples = Array.from({ length: info.dataLength / 2 }, (_, i) => v.getInt16(i * 2, true));
  assert.deepEqual(samples, [1, 2, 0, 0, 3]);
});

test("concatWav refuses clips of different sample rates", () => {
  assert.throws(() => concatWav([pcmWav([1], 24000), pcmWav([1], 16000)]), /16000 Hz/);
  assert.throws(() => concatWav([]), ProtocolError);
});
