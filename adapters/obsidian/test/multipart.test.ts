import assert from "node:assert/strict";
import { test } from "node:test";
import { buildMultipart, contentTypeFor } from "../src/multipart";

test("multipart body parses back with a standard form-data parser (fields, files, bytes intact)", async () => {
  const audio = new Uint8Array(1000).map((_, i) => (i * 37) % 256); // all byte values, incl. CR and LF
  const { body, contentType } = buildMultipart(
    [
      ["name", "Ann’s voice"],
      ["consent", "I am the speaker.\nI agree."],
      ["lang", "en"],
    ],
    [
      { field: "file", filename: "take 1.wav", contentType: "audio/wav", data: audio },
      { field: "file", filename: "take 1.txt", contentType: "text/plain", data: new TextEncoder().encode("Hello.") },
    ],
  );
  assert.match(contentType, /^multipart\/form-data; boundary=----ownvoice[0-9a-f]{32}$/);
  // undici (Node's fetch) has a spec-compliant multipart parser: the daemon's aiohttp must read the same.
  const form = await new Response(body, { headers: { "content-type": contentType } }).formData();
  assert.equal(form.get("name"), "Ann’s voice");
  assert.equal(form.get("consent"), "I am the speaker.\r\nI agree.");
  assert.equal(form.get("lang"), "en");
  const files = form.getAll("file") as File[];
  assert.deepEqual(
    files.map((f) => f.name),
    ["take 1.wav", "take 1.txt"],
  );
  assert.deepEqual(new Uint8Array(await files[0].arrayBuffer()), audio);
  assert.equal(files[0].type, "audio/wav");
  assert.equal(await files[1].text(), "Hello.");
});

test("multipart escapes quotes and line breaks in file names", () => {
  const { body } = buildMultipart([], [{ field: "file", filename: 'a"b\r\nc.wav', contentType: "audio/wav", data: new Uint8Array(1) }], "XX");
  const text = new TextDecoder().decode(body);
  assert.ok(text.includes('filename="a%22b%0D%0Ac.wav"'), text);
  assert.ok(text.endsWith("--XX--\r\n"));
});

test("content types follow the recording's extension", () => {
  assert.equal(contentTypeFor("WAV"), "audio/wav");
  assert.equal(contentTypeFor("mp3"), "audio/mpeg");
  assert.equal(contentTypeFor("flac"), "audio/flac");
  assert.equal(contentTypeFor("xyz"), "application/octet-stream");
});
