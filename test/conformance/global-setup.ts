/** Vitest globalSetup of the conformance suite: installs Node 24 + both OpenClaw releases once. */
import { ensureInstalled } from './install.js';

export default async function setup(): Promise<void> {
  const t0 = Date.now();
  await ensureInstalled((m) => console.log(`[conformance install] ${m}`));
  console.log(`[conformance install] done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
