/**
 * The fakes are only worth their name if they refuse what the real services refuse: each is
 * asked with plain fetch for the documented errors (length limits, bad tokens, empty bodies,
 * wrong content type, 429 with its wait after N requests in a window).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeDiscord } from './fake-discord.js';
import { startFakeSlack } from './fake-slack.js';
import { startFakeTelegram } from './fake-telegram.js';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const post = async (url: string, body: unknown, type = 'application/json') => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
};

describe('fake Slack', () => {
  it('answers as Slack documents', async () => {
    let t = 0;
    const slack = await startFakeSlack({ rateLimit: { max: 2, windowMs: 1000 }, now: () => t });
    cleanup.push(slack.close);
    expect(await post(slack.hookUrl, { text: 'hi' })).toMatchObject({ status: 200, text: 'ok' });
    expect(await post(slack.hookUrl, {})).toMatchObject({ status: 400, text: 'no_text' });
    const limited = await post(slack.hookUrl, { text: 'x' });
    expect(limited).toMatchObject({ status: 429 });
    expect(limited.headers.get('retry-after')).toBe('1');
    t = 1000;
    expect(
      await post(slack.hookUrl, 'payload={"text":"x"}', 'application/x-www-form-urlencoded'),
    ).toMatchObject({
      status: 400,
      text: 'invalid_payload',
    });
    const big = { type: 'section', text: { type: 'mrkdwn', text: 'y'.repeat(3001) } };
    expect(await post(slack.hookUrl, { text: 'x', blocks: [big] })).toMatchObject({
      status: 400,
      text: 'invalid_blocks',
    });
    t = 2000;
    expect(await post(slack.hookUrl, { text: 'z'.repeat(40_001) })).toMatchObject({ status: 200 });
    expect(slack.truncated).toBe(1);
    expect(await post(`${slack.url}/services/T0/B0/nope`, { text: 'x' })).toMatchObject({
      status: 404,
      text: 'no_service',
    });
    slack.setHook(new URL(slack.hookUrl).pathname, 'revoked');
    expect(await post(slack.hookUrl, { text: 'x' })).toMatchObject({ status: 403, text: 'invalid_token' });
  });
});

describe('fake Discord', () => {
  it('answers as Discord documents', async () => {
    let t = 0;
    const d = await startFakeDiscord({ rateLimit: { max: 4, windowMs: 2000 }, now: () => t });
    cleanup.push(d.close);
    expect((await post(d.webhookUrl, { content: 'hi' })).status).toBe(204);
    expect(await post(`${d.webhookUrl}?wait=true`, { content: 'hi' })).toMatchObject({
      status: 200,
      json: { content: 'hi' },
    });
    expect(await post(d.webhookUrl, { content: 'x'.repeat(2001) })).toMatchObject({
      status: 400,
      json: { code: 50035 },
    });
    expect(await post(d.webhookUrl, { content: '' })).toMatchObject({ status: 400, json: { code: 50006 } });
    const limited = await post(d.webhookUrl, { content: 'x' });
    expect(limited).toMatchObject({ status: 429, json: { retry_after: 2, global: false } });
    expect(limited.headers.get('retry-after')).toBe('2');
    t = 2000;
    expect(await post(d.webhookUrl, 'content=x', 'text/plain')).toMatchObject({
      status: 400,
      json: { code: 50006 },
    });
    expect(await post(d.webhookUrl.replace(/\/[^/]+$/, '/wrongtoken'), { content: 'x' })).toMatchObject({
      status: 401,
      json: { code: 50027 },
    });
    d.deleteWebhook();
    expect(await post(d.webhookUrl, { content: 'x' })).toMatchObject({ status: 404, json: { code: 10015 } });
  });
});

describe('fake Telegram', () => {
  it('answers as the Bot API documents', async () => {
    const t = 0;
    const tg = await startFakeTelegram({
      chats: ['42'],
      rateLimit: { max: 1, windowMs: 5000 },
      now: () => t,
    });
    cleanup.push(tg.close);
    const send = `${tg.apiUrl}/bot${tg.token}/sendMessage`;
    expect(await post(send, { chat_id: 42, text: 'hi' })).toMatchObject({ status: 200, json: { ok: true } });
    expect(await post(send, { chat_id: '42', text: 'x'.repeat(4097) })).toMatchObject({
      status: 400,
      json: { ok: false, error_code: 400, description: 'Bad Request: message is too long' },
    });
    expect(await post(send, { chat_id: '7', text: 'x' })).toMatchObject({
      json: { description: 'Bad Request: chat not found' },
    });
    expect(await post(send, { chat_id: '42', text: '' })).toMatchObject({ status: 400 });
    expect(await post(send, { chat_id: '42', text: 'x' })).toMatchObject({
      status: 429,
      json: { error_code: 429, parameters: { retry_after: 5 } },
    });
    expect(await post(`${tg.apiUrl}/bot1:wrong/sendMessage`, { chat_id: '42', text: 'x' })).toMatchObject({
      status: 401,
      json: { description: 'Unauthorized' },
    });
    expect(await post(`${tg.apiUrl}/botnotatoken/sendMessage`, { chat_id: '42', text: 'x' })).toMatchObject({
      status: 404,
    });
  });
});
