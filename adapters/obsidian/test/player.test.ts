import assert from "node:assert/strict";
import { test } from "node:test";
import { BadRequest, DaemonDown } from "../src/errors";
import { Player } from "../src/player";
import { type Deferred, FakeBackend, deferred, flush, silentWav } from "./support/audio";

/** A player whose fetches are resolved by the test, recording the order of events. */
function setup(count: number, opts: { prefetch?: number; isFatal?: (e: unknown) => boolean } = {}) {
  const backend = new FakeBackend();
  const fetches: Array<{ index: number; speed: number; d: Deferred<ArrayBuffer> }> = [];
  const log: string[] = [];
  const player = new Player({
    count,
    backend,
    prefetch: opts.prefetch,
    isFatal: opts.isFatal,
    fetchAudio: (index, speed) => {
      const d = deferred<ArrayBuffer>();
      fetches.push({ index, speed, d });
      log.push(`fetch ${index}`);
      return d.promise;
    },
  });
  player.on({
    sentence: (i) => log.push(`play ${i}`),
    error: (e, i, fatal) => log.push(`error ${i} ${fatal ? "fatal" : "skip"}: ${(e as Error).message}`),
    end: (done) => log.push(`end ${done}`),
  });
  const deliver = async (index: number) => {
    const f = fetches.find((x) => x.index === index && x.speed === player.speed) ?? fetches.find((x) => x.index === index);
    assert.ok(f, `sentence ${index} was fetched`);
    f.d.resolve(silentWav(0.1, 24000, index));
    await flush();
  };
  return { player, backend, fetches, log, deliver };
}

test("prefetch: sentence i+1 is fetched while i plays, never further ahead", async () => {
  const { player, backend, log, deliver } = setup(3);
  const done = player.start();
  await flush();
  assert.deepEqual(log, ["fetch 0"], "only the first sentence before any audio plays");
  assert.equal(player.state, "loading");
  await deliver(0);
  assert.deepEqual(log, ["fetch 0", "fetch 1", "play 0"]);
  assert.equal(player.state, "playing");
  await deliver(1); // arrives while 0 still plays: nothing else happens yet
  assert.deepEqual(log, ["fetch 0", "fetch 1", "play 0"]);
  backend.last.finish();
  await flush();
  assert.deepEqual(log, ["fetch 0", "fetch 1", "play 0", "fetch 2", "play 1"], "1 plays at once, 2 is fetched");
  assert.equal(backend.clips[0].disposed, true, "finished clips release their audio");
  await deliver(2);
  backend.last.finish();
  await flush();
  backend.last.finish();
  assert.equal(await done, true);
  assert.deepEqual(log.slice(-2), ["play 2", "end true"]);
  assert.deepEqual(
    backend.clips.map((c) => c.tag),
    [0, 1, 2],
    "clips play in sentence order",
  );
  assert.equal(player.state, "idle");
});

test("starting mid-script fetches from that sentence", async () => {
  const { player, log, deliver } = setup(5);
  void player.start(3);
  await flush();
  await deliver(3);
  assert.deepEqual(log, ["fetch 3", "fetch 4", "play 3"]);
  assert.equal(player.index, 3);
});

test("pause and resume keep the position; pausing while loading holds the clip until resume", async () => {
  const { player, backend, log, deliver } = setup(2);
  void player.start();
  await flush();
  player.pause(); // still loading sentence 0
  assert.equal(player.state, "paused");
  await deliver(0);
  assert.equal(backend.last.plays, 0, "not played while paused");
  assert.ok(log.includes("play 0"), "the highlight still moves to the loaded sentence");
  player.resume();
  await flush();
  assert.equal(backend.last.plays, 1);
  assert.equal(player.state, "playing");
  player.toggle();
  assert.equal(player.state, "paused");
  assert.equal(backend.last.playing, false);
  player.toggle();
  await flush();
  assert.equal(backend.last.playing, true);
  assert.equal(player.index, 0);
});

test("stop ends the reading and ignores audio that arrives afterwards", async () => {
  const { player, backend, log, deliver } = setup(3);
  const done = player.start();
  await flush();
  player.stop();
  assert.equal(await done, false);
  await deliver(0);
  assert.equal(backend.clips.length, 0, "a late clip is not played");
  assert.deepEqual(log, ["fetch 0", "end false"]);
  assert.equal(player.state, "idle");
});

test("speed change applies at once to the clip playing and refetches the next at the new speed", async () => {
  const { player, backend, fetches, deliver } = setup(3);
  void player.start();
  await flush();
  await deliver(0);
  player.setSpeed(1.5);
  assert.equal(backend.last.rate, 1.5, "the current clip (synthesised at 1×) plays 1.5× faster");
  const next = fetches.filter((f) => f.index === 1).map((f) => f.speed);
  assert.deepEqual(next, [1, 1.5], "sentence 1 is fetched again at 1.5");
  await deliver(1);
  backend.last.finish();
  await flush();
  assert.equal(backend.last.tag, 1);
  assert.equal(backend.last.rate, 1, "a clip synthesised at 1.5 plays at its own rate");
});

test("a fatal fetch error ends the reading; a refused sentence is skipped", async () => {
  const fatal = setup(3, { isFatal: (e) => !(e instanceof BadRequest) });
  const done = fatal.player.start();
  await flush();
  fatal.fetches[0].d.reject(new DaemonDown());
  assert.equal(await done, false);
  assert.match(fatal.log.join("\n"), /error 0 fatal: ownvoice daemon is not running/);

  const skip = setup(3, { isFatal: (e) => !(e instanceof BadRequest) });
  void skip.player.start();
  await flush();
  skip.fetches[0].d.reject(new BadRequest("text is empty", 422));
  await flush();
  assert.deepEqual(skip.log, ["fetch 0", "error 0 skip: text is empty", "fetch 1"]);
  await skip.deliver(1);
  assert.equal(skip.player.index, 1);
});

test("audio the system refuses to play ends the reading with an error", async () => {
  const { player, backend, log, deliver } = setup(2);
  backend.refuse = true;
  const done = player.start();
  await flush();
  await deliver(0);
  assert.equal(await done, false);
  assert.ok(log.some((l) => l.startsWith("error 0 fatal: the system refused")), log.join("\n"));
});

test("skip moves to the next or previous sentence", async () => {
  const { player, log, deliver } = setup(4);
  void player.start();
  await flush();
  await deliver(0);
  player.skip(1);
  await flush();
  assert.equal(player.index, 1);
  await deliver(1);
  player.skip(-5);
  await flush();
  assert.equal(player.index, 0);
  assert.ok(log.filter((l) => l === "fetch 0").length >= 1);
});

test("an empty script ends immediately as completed", async () => {
  const { player } = setup(0);
  assert.equal(await player.start(), true);
});
