/**
 * A full disk under a running daemon (a real `clawpulse start` process): the store lives on a
 * small tmpfs (16 MB) that a filler file fills up while transcripts keep being appended. While the
 * store refuses writes, what the daemon holds in memory must stay bounded and the file source
 * must pause reading (its offsets say where to resume); once space is freed every line must
 * arrive exactly once (compared with the writer's truth and with `replay`).
 *
 * Mounting needs root and a kernel that allows it (CI runs as root); elsewhere the test is
 * skipped with a message saying so.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  compareLines,
  type DaemonEnv,
  type DaemonProcess,
  figure,
  fillUp,
  freePort,
  type Health,
  lookIntoStore,
  makeLayout,
  makeWriter,
  modelVsReplay,
  postOtlpRun,
  settle,
  sleep,
  startDaemonProcess,
} from './store-harness.js';

const T = 'disk full';
let daemon: DaemonProcess | undefined;
let mnt: string | undefined;
afterAll(async () => {
  await daemon?.stop();
  if (mnt) spawnSync('umount', [mnt]);
});

describe('a full disk under a running daemon', () => {
  it('pauses reading with bounded memory, and loses and doubles nothing once space is freed', async (ctx) => {
    const layout = makeLayout('clawpulse-rel-full-');
    const dir = join(layout.root, 'store-mnt');
    mkdirSync(dir);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir], { encoding: 'utf8' });
    if (m.status !== 0) {
      figure(
        T,
        `skipped: cannot mount a tmpfs here (${(m.stderr || m.error?.message || 'not root?').trim()})`,
      );
      ctx.skip();
      return;
    }
    mnt = dir;
    const env: DaemonEnv = {
      layout: { ...layout, dbPath: join(dir, 'clawpulse.sqlite') },
      port: await freePort(),
    };
    const writer = makeWriter(layout, 6, 19);
    daemon = await startDaemonProcess(env);
    const d = daemon;
    expect(await d.health()).toBeDefined();
    const otlp: string[] = [];
    for (let i = 0; i < 20; i++) {
      writer.append(20);
      await sleep(50);
    }
    expect(await settle(d)).toBe(true);

    const filler = join(dir, 'filler');
    const filled = fillUp(filler, 32 * 1024 * 1024);
    figure(T, `filler took ${(filled / 1024 / 1024).toFixed(1)} MB: the tmpfs is full`);

    // 20 s of lines (~240 a second) and an OTLP run a second while the store cannot write
    let maxPending = 0;
    let maxHeld = 0;
    let paused = false;
    let refused = false;
    let running = true;
    const watch = (async () => {
      for (let i = 0; i < 100; i++) {
        const h = await d.health();
        if (h) {
          maxPending = Math.max(maxPending, h.pipeline.pendingEvents);
          maxHeld = Math.max(maxHeld, (h.pipeline.heldEvents ?? 0) + h.pipeline.pendingEvents);
          if (h.pipeline.paused) paused = true;
          if (h.pipeline.storeError || h.store.error) refused = true;
        }
        await sleep(250);
        if (!running) break;
      }
    })();
    const start = Date.now();
    for (let round = 0; Date.now() - start < 20_000 && round < 1000; round++) {
      writer.append(12);
      if (round % 20 === 0) {
        const key = `agent:main:otlp-full-${round}`;
        if ((await postOtlpRun(env.port, key)) === 200) otlp.push(key);
      }
      await sleep(50);
    }
    running = false;
    await watch;
    figure(T, `store refused writes: ${refused ? 'yes' : 'no'}`);
    figure(
      T,
      `max events held in memory (pipeline + store): ${maxHeld}; pipeline pendingEvents max ${maxPending}`,
    );
    figure(T, `reading paused: ${paused ? 'yes' : 'no'}`);
    figure(T, `lines written while full: ${writer.total() - 400}`);

    rmSync(filler);
    const freedAt = Date.now();
    const caughtUp = await settle(d, 60_000);
    figure(
      T,
      `caught up: ${caughtUp ? `${Date.now() - freedAt} ms after space was freed` : 'not within 60 s'}`,
    );
    if (!caughtUp) figure(T, `health then: ${JSON.stringify(await d.health()).slice(0, 1500)}`);
    expect(caughtUp).toBe(true);
    const h = (await d.health()) as Health;
    expect(await d.stop()).toBe(0);
    daemon = undefined;

    const look = lookIntoStore(env.layout.dbPath);
    const lines = compareLines(look, writer);
    const otlpLost = otlp.filter((k) => !look.otlp.get(k)).length;
    figure(T, `lines: ${lines.total} written, ${lines.lost} lost, ${lines.doubled} doubled`);
    figure(T, `OTLP sessions: ${otlp.length} accepted, ${otlpLost} lost`);
    const vs = modelVsReplay(env, writer.keys);
    figure(T, `store model vs replay: ${vs.agree ? 'same tokens' : vs.detail}`);
    spawnSync('umount', [dir]);
    mnt = undefined;

    expect(refused).toBe(true);
    expect(h.status).toBe('ok');
    expect(maxHeld).toBeLessThanOrEqual(5000);
    expect(paused).toBe(true);
    expect(lines).toEqual({ total: lines.total, lost: 0, doubled: 0 });
    expect(otlpLost).toBe(0);
    expect(vs.agree).toBe(true);
  });
});
