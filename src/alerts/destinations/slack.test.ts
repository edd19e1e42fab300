import { afterEach, describe, expect, it } from 'vitest';
import { type FakeSlack, startFakeSlack } from '../../../test/support/fake-slack.js';
import { deadUrl, waitFor } from '../../../test/support/http-receiver.js';
import type { AlertDestination } from '../alert.js';
import { createSlackDestination, SLACK_PACE, SLACK_SECTION_MAX } from './slack.js';
import {
  expectNoSecrets,
  firing,
  type Harness,
  harness,
  NO_PACE,
  resolved,
  TEST_QUEUE,
} from './test-kit.helper.js';

const SECRET_PART = 'Zx9slackSecretPart0000001';
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(o: { rateLimit?: { max: number; windowMs: number }; pace?: typeof NO_PACE } = {}) {
  let h: Harness<AlertDestination> | undefined;
  const slack: FakeSlack = await startFakeSlack({
    path: `/services/T0FAKE000/B0FAKE000/${SECRET_PART}`,
    rateLimit: o.rateLimit,
    now: () => h?.clock.now() ?? 0,
  });
  h = harness((clock, logger) =>
    createSlackDestination({ url: slack.hookUrl, clock, logger, queue: TEST_QUEUE, pace: o.pace ?? NO_PACE }),
  );
  cleanup.push(slack.close, h.stop);
  return { h, slack };
}

const sent = (h: Harness<AlertDestination>) => h.dest.health().detail?.sent;

describe('Slack alerts', () => {
  it('delivers the firing and the resolved alert as text plus a mrkdwn section, escaping what Slack needs', async () => {
    const { h, slack } = await setup();
    const a = firing({ message: 'exec <rm -rf> & friends stuck' });
    await h.dest.send(a);
    await h.dest.send(resolved(a));
    await waitFor(() => sent(h) === 2, 'two messages');
    const [m1, m2] = slack.messages;
    expect(m1?.text).toContain('*FIRING critical · stuck*: exec &lt;rm -rf&gt; &amp; friends stuck');
    expect(m1?.text).toContain('session `agent:main:main`');
    expect(m1?.text).toContain('720000 ms (threshold 300000 ms)');
    expect(m1?.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: m1?.text } }]);
    expect(m2?.text).toContain('*RESOLVED · stuck*');
    expect(m2?.text).toContain('lasted 15 min');
    expect(h.dest.health()).toMatchObject({ kind: 'slack', detail: { state: 'ok', sent: 2 } });
  });

  it('after a 429 waits its Retry-After on the clock and sends again', async () => {
    const { h, slack } = await setup({ rateLimit: { max: 1, windowMs: 5000 } });
    await h.dest.send(firing({ id: 'one' }));
    await h.dest.send(firing({ id: 'two', message: 'second' }));
    await waitFor(
      () => slack.received.length === 2 && h.dest.health().detail?.nextAttemptAt !== undefined,
      '429',
    );
    expect(slack.received[1]?.status).toBe(429);
    h.clock.advance(4999);
    await new Promise((r) => setTimeout(r, 30));
    expect(slack.received).toHaveLength(2);
    h.clock.advance(1);
    await waitFor(() => sent(h) === 2, 'sent after the wait');
    expect(slack.received.map((r) => r.status)).toEqual([200, 429, 200]);
    expect(slack.messages[1]?.text).toContain('second');
  });

  it('keeps to its own pace (1/s, burst 3), so a burst of alerts earns no 429 from a 1/s Slack', async () => {
    const { h, slack } = await setup({ rateLimit: { max: 3, windowMs: 1000 }, pace: SLACK_PACE });
    for (let i = 0; i < 5; i++) await h.dest.send(firing({ id: `a${i}`, message: `alert ${i}` }));
    await waitFor(() => slack.received.length === 3, 'the burst');
    await new Promise((r) => setTimeout(r, 30));
    expect(slack.received).toHaveLength(3);
    h.clock.advance(1000);
    await waitFor(() => slack.received.length === 4, 'one more after a second');
    h.clock.advance(1000);
    await waitFor(() => sent(h) === 5, 'all five');
    expect(slack.received.every((r) => r.status === 200)).toBe(true);
    expect(slack.messages.map((m) => /alert (\d)/.exec(m.text ?? '')?.[1])).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
    ]);
  });

  it('a revoked webhook (403 invalid_token) is a clear error, opens the breaker, and never shows the secret path', async () => {
    const { h, slack } = await setup();
    slack.setHook(`/services/T0FAKE000/B0FAKE000/${SECRET_PART}`, 'revoked');
    await h.dest.send(firing({ id: 'a1' }));
    await h.dest.send(firing({ id: 'a2' }));
    await h.dest.send(firing({ id: 'a3' }));
    await waitFor(() => h.dest.health().breaker === 'open', 'breaker open');
    const health = h.dest.health();
    expect(health.lastError).toBe(
      'Slack refused the alert: 403 invalid_token (the webhook was revoked or its URL is wrong (ALERT_SLACK_WEBHOOK_URL))',
    );
    expect(health).toMatchObject({ queued: 1, detail: { state: 'breaker-open', refused: 2, failed: 2 } });
    expect(slack.received).toHaveLength(2);
    expect(String(health.detail?.target)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\[redacted\]$/);
    expectNoSecrets(h, [SECRET_PART]);
  });

  it('an archived channel (410) is refused and counted; a later alert to a working hook still goes', async () => {
    const { h, slack } = await setup();
    const path = `/services/T0FAKE000/B0FAKE000/${SECRET_PART}`;
    slack.setHook(path, 'archived');
    await h.dest.send(firing({ id: 'a1' }));
    await waitFor(() => h.dest.health().detail?.failed === 1, 'refused');
    expect(h.dest.health().lastError).toContain('410 channel_is_archived');
    slack.setHook(path, 'ok');
    await h.dest.send(firing({ id: 'a2' }));
    await waitFor(() => sent(h) === 1, 'sent');
    expect(h.dest.health().detail?.state).toBe('ok');
  });

  it('a Slack that does not answer is retried with backoff; the error names the host, never the secret path', async () => {
    const url = `${await deadUrl()}/services/T0FAKE000/B0FAKE000/${SECRET_PART}`;
    const h = harness((clock, logger) =>
      createSlackDestination({ url, clock, logger, queue: TEST_QUEUE, pace: NO_PACE }),
    );
    cleanup.push(h.stop);
    await h.dest.send(firing());
    await waitFor(() => h.dest.health().detail?.nextAttemptAt !== undefined, 'first failure');
    // backoff with jitter 0: half of the 500 ms first step
    expect(h.dest.health().detail?.nextAttemptAt).toBe(h.clock.now() + 250);
    expect(h.dest.health().detail?.state).toBe('failing');
    expect(h.dest.health().lastError).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/\[redacted\]: /);
    h.clock.advance(250);
    await waitFor(() => h.dest.health().requests === 2, 'second try');
    expectNoSecrets(h, [SECRET_PART]);
  });

  it('clips a long alert to the section limit (3,000), which Slack takes whole', async () => {
    const { h, slack } = await setup();
    await h.dest.send(firing({ message: `${'long '.repeat(20_000)}END` }));
    await waitFor(() => sent(h) === 1, 'sent');
    const text = slack.messages[0]?.text ?? '';
    expect(text.length).toBeLessThanOrEqual(SLACK_SECTION_MAX);
    expect(text.length).toBeGreaterThan(SLACK_SECTION_MAX - 20);
    // the facts line survives: the message gave way
    expect(text).toContain('session `agent:main:main`');
    expect(slack.truncated).toBe(0);
  });
});
