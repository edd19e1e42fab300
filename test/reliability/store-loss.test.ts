/**
 * The store lost or made read-only under a running daemon (a real `clawpulse start` process):
 *
 * - the DB and its WAL deleted while transcripts are appended and OTLP runs are posted: /health
 *   must say so within seconds, the daemon must write a new store at the path, and after a
 *   restart every line and every OTLP session received must be there exactly once, with no
 *   transcript read again from byte 0 (compared with the writer's truth and with `replay`);
 * - the store made read-only (chmod of the file and its folder) while running, then writable
 *   again; and at start-up (chmod, and a read-only tmpfs where mounting is allowed): the message
 *   must say "read-only".
 *
 * CI runs as root, for whom permission bits do not apply: the chmod cases run the daemon as
 * `nobody` then. The kernel refuses to remount a filesystem read-only while a file on it is open
 * for writing, so a read-only mount is tested at start-up only.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  chownTree,
  compareLines,
  type DaemonEnv,
  type DaemonProcess,
  figure,
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
  type Writer,
  waitFor,
} from './store-harness.js';

const running: DaemonProcess[] = [];
const mounted: string[] = [];
afterAll(async () => {
  for (const d of running.splice(0)) await d.stop();
  for (const m of mounted.splice(0)) spawnSync('umount', [m]);
});

async function start(env: DaemonEnv): Promise<DaemonProcess> {
  const d = await startDaemonProcess(env);
  running.push(d);
  return d;
}

async function stop(d: DaemonProcess): Promise<number | null> {
  const code = await d.stop();
  running.splice(running.indexOf(d), 1);
  return code;
}

/** the store's trouble as /health tells it (undefined while it says nothing) */
const storeTrouble = (h: Health | undefined): string | undefined =>
  h && h.status !== 'ok' ? (h.store.error ?? h.pipeline.storeError) : undefined;

/** appends lines (and posts an OTLP run every 5th round) for `ms`; returns the OTLP keys accepted */
async function pump(writer: Writer, port: number, ms: number, otlp: string[], perRound = 10): Promise<void> {
  const end = Date.now() + ms;
  for (let round = 0; Date.now() < end && round < 10_000; round++) {
    writer.append(perRound);
    if (round % 5 === 0) {
      const key = `agent:main:otlp-${otlp.length + Math.floor(Math.random() * 1e9)}`;
      if ((await postOtlpRun(port, key)) === 200) otlp.push(key);
    }
    await sleep(50);
  }
}

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

describe('a store deleted under a running daemon', () => {
  it('is reported within seconds, recovered, and after a restart holds every line and OTLP session once', async () => {
    const T = 'store deleted';
    const layout = makeLayout('clawpulse-rel-loss-');
    const writer = makeWriter(layout, 4, 16);
    const env: DaemonEnv = { layout, port: await freePort() };
    const d1 = await start(env);
    expect(await d1.health()).toBeDefined();
    const otlp: string[] = [];
    await pump(writer, env.port, 3000, otlp);

    // rm of the DB and its WAL while lines keep coming
    rmSync(layout.dbPath, { force: true });
    rmSync(`${layout.dbPath}-wal`, { force: true });
    const deletedAt = Date.now();
    let detectedMs: number | undefined;
    let reason: string | undefined;
    const watch = (async () => {
      for (let i = 0; i < 60 && detectedMs === undefined; i++) {
        const trouble = storeTrouble(await d1.health());
        if (trouble) {
          detectedMs = Date.now() - deletedAt;
          reason = trouble;
        }
        await sleep(250);
      }
    })();
    await pump(writer, env.port, 8000, otlp);
    await watch;
    figure(
      T,
      `/health reported it after ${detectedMs ?? 'never (>15 s)'} ms: ${reason ?? 'status stayed ok'}`,
    );
    expect(await settle(d1)).toBe(true);
    const logLines = d1.output().match(/store file .*(deleted|gone|replaced)/gi)?.length ?? 0;
    figure(T, `log lines about it: ${logLines}`);
    expect(await stop(d1)).toBe(0);
    const fileAfterStop = existsSync(layout.dbPath);
    figure(T, `store file at the path after the stop: ${fileAfterStop ? 'yes' : 'no'}`);

    // a restart reads nothing again: the offsets kept saying where each transcript ends
    const d2 = await start(env);
    expect(await settle(d2)).toBe(true);
    const h2 = (await d2.health()) as Health;
    figure(T, `events stored by the restarted daemon (lines read again): ${h2.pipeline.ingested}`);
    expect(await stop(d2)).toBe(0);

    const look = lookIntoStore(layout.dbPath);
    const lines = compareLines(look, writer);
    const otlpLost = otlp.filter((k) => !look.otlp.get(k)).length;
    const otlpDoubled = otlp.filter((k) => (look.otlp.get(k) ?? 0) > 1).length;
    const atEnd = writer.files.filter((f) => look.offsets.get(f) === statSync(f).size).length;
    figure(T, `lines: ${lines.total} written, ${lines.lost} lost, ${lines.doubled} doubled`);
    figure(T, `OTLP sessions: ${otlp.length} accepted, ${otlpLost} lost, ${otlpDoubled} doubled`);
    figure(T, `transcripts whose saved offset is their end: ${atEnd} of ${writer.files.length}`);
    const vs = modelVsReplay(env, writer.keys);
    figure(T, `store model vs replay: ${vs.agree ? 'same tokens' : vs.detail}`);

    expect(detectedMs).toBeLessThan(10_000);
    expect(reason).toMatch(/deleted/);
    expect(logLines).toBeGreaterThanOrEqual(1);
    expect(lines).toEqual({ total: lines.total, lost: 0, doubled: 0 });
    expect([otlpLost, otlpDoubled]).toEqual([0, 0]);
    expect(atEnd).toBe(writer.files.length);
    expect(h2.pipeline.ingested).toBeLessThanOrEqual(4); // sessions.json only, never a transcript
    expect(vs.agree).toBe(true);
  });
});

describe('a read-only store', () => {
  /** as root permissions do not apply: the daemon runs as nobody */
  const asUser = isRoot ? { uid: NOBODY, gid: NOBODY } : {};

  it('made read-only (chmod) while running is reported, and clears once writable again', async () => {
    const T = 'store read-only (chmod, running)';
    const layout = makeLayout('clawpulse-rel-ro-', { storeApart: true });
    const writer = makeWriter(layout, 3, 17);
    if (isRoot) chownTree(layout.root, NOBODY, NOBODY);
    chmodSync(layout.root, 0o755);
    const env: DaemonEnv = { layout, port: await freePort(), ...asUser };
    const d = await start(env);
    expect(await d.health()).toBeDefined();
    const otlp: string[] = [];
    await pump(writer, env.port, 2000, otlp);
    expect(await settle(d)).toBe(true);

    const dir = dirname(layout.dbPath);
    chmodSync(layout.dbPath, 0o444);
    chmodSync(dir, 0o555);
    const seen = await waitFor(
      () => d.health(),
      (h) => /read-only/.test(storeTrouble(h) ?? ''),
      15_000,
      250,
    );
    figure(
      T,
      `/health reported it after ${seen.ok ? seen.ms : 'never (>15 s)'} ms: ${storeTrouble(seen.value) ?? `status ${seen.value?.status}`}`,
    );
    await pump(writer, env.port, 2000, otlp);
    chmodSync(layout.dbPath, 0o644);
    chmodSync(dir, 0o755);
    const cleared = await waitFor(
      () => d.health(),
      (h) => h?.status === 'ok',
      15_000,
      250,
    );
    figure(T, `status ok again ${cleared.ok ? `${cleared.ms} ms` : 'never (>15 s)'} after chmod back`);
    expect(await settle(d)).toBe(true);
    expect(await stop(d)).toBe(0);
    const lines = compareLines(lookIntoStore(layout.dbPath), writer);
    figure(T, `lines: ${lines.total} written, ${lines.lost} lost, ${lines.doubled} doubled`);
    expect(seen.ok).toBe(true);
    expect(cleared.ok).toBe(true);
    expect(lines).toEqual({ total: lines.total, lost: 0, doubled: 0 });
  });

  it('at start-up says "read-only" (file, folder, read-only mount), and starts once writable again', async () => {
    const T = 'store read-only (start-up)';
    const layout = makeLayout('clawpulse-rel-ro-start-', { storeApart: true });
    const writer = makeWriter(layout, 2, 18);
    if (isRoot) chownTree(layout.root, NOBODY, NOBODY);
    chmodSync(layout.root, 0o755);
    const env: DaemonEnv = { layout, port: await freePort(), ...asUser };
    const d = await start(env);
    await pump(writer, env.port, 1000, []);
    expect(await settle(d)).toBe(true);
    expect(await stop(d)).toBe(0);

    const refused = async (what: string, on = env): Promise<string> => {
      const p = await start(on);
      const code = await Promise.race([p.exited(), sleep(8000).then(() => 'running' as const)]);
      let msg = /clawpulse: (.*)/.exec(p.output())?.[1];
      if (code === 'running') {
        const h = await p.health();
        msg = `started anyway; /health ${h?.status}, store error: ${h?.pipeline.storeError ?? h?.store.error ?? 'none'}`;
        await stop(p);
      } else running.splice(running.indexOf(p), 1);
      msg ??= `exited ${code}`;
      figure(T, `${what}: ${msg}`);
      return msg;
    };
    chmodSync(layout.dbPath, 0o444);
    const fileMsg = await refused('file chmod 0444');
    chmodSync(layout.dbPath, 0o644);
    const dir = dirname(layout.dbPath);
    chmodSync(dir, 0o555);
    const dirMsg = await refused('folder chmod 0555');
    chmodSync(dir, 0o755);

    // writable again: it starts, and reads nothing again
    const again = await start(env);
    expect(await settle(again)).toBe(true);
    const h = (await again.health()) as Health;
    figure(T, `after chmod back: started, ${h.pipeline.ingested} events stored again`);
    expect(await stop(again)).toBe(0);
    expect(fileMsg).toMatch(/read-only/);
    expect(dirMsg).toMatch(/read-only/);
    expect(h.pipeline.ingested).toBeLessThanOrEqual(2);
    expect(compareLines(lookIntoStore(layout.dbPath), writer)).toMatchObject({ lost: 0, doubled: 0 });

    // a read-only mount (tmpfs: needs root and a kernel that lets us mount)
    const mnt = join(layout.root, 'ro-mnt');
    mkdirSync(mnt);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt], { encoding: 'utf8' });
    if (m.status !== 0) {
      figure(
        T,
        `read-only mount: skipped (cannot mount a tmpfs here: ${(m.stderr || m.error?.message || '').trim()})`,
      );
      return;
    }
    mounted.push(mnt);
    try {
      const onMount: DaemonEnv = {
        layout: { ...layout, dbPath: join(mnt, 'clawpulse.sqlite') },
        port: env.port,
      };
      const first = await start(onMount);
      expect(await settle(first)).toBe(true);
      expect(await stop(first)).toBe(0);
      expect(spawnSync('mount', ['-o', 'remount,ro', mnt]).status).toBe(0);
      const mountMsg = await refused('read-only mount', onMount);
      expect(spawnSync('mount', ['-o', 'remount,rw', mnt]).status).toBe(0);
      const back = await start(onMount);
      expect(await settle(back)).toBe(true);
      expect(await stop(back)).toBe(0);
      expect(mountMsg).toMatch(/read-only/);
    } finally {
      spawnSync('umount', [mnt]);
      mounted.splice(mounted.indexOf(mnt), 1);
      rmSync(mnt, { recursive: true, force: true });
    }
  });
});
