import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactConfig } from './config.js';
import { displayPgUrl } from './store-env.js';

const base = { HOME: '/home/u', CLAWPULSE_HOME: '/srv/cp' };
const problems = (env: Record<string, string>) => {
  try {
    loadConfig({ ...base, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err;
  }
  throw new Error('expected a ConfigError');
};

describe('CLAWPULSE_STORE and CLAWPULSE_HOST', () => {
  it('keeps the SQLite file by default, takes a path, or a PostgreSQL URL', () => {
    const def = loadConfig(base);
    expect(def.store).toEqual({ engine: 'sqlite', path: '/srv/cp/clawpulse.sqlite' });
    expect(def.host).toBe(hostname().slice(0, 64));
    expect(loadConfig({ ...base, CLAWPULSE_DB: '/d/a.sqlite' }).store).toEqual({
      engine: 'sqlite',
      path: '/d/a.sqlite',
    });
    const path = loadConfig({ ...base, CLAWPULSE_STORE: '/d/b.sqlite' });
    expect(path.store).toEqual({ engine: 'sqlite', path: '/d/b.sqlite' });
    expect(path.dbPath).toBe('/d/b.sqlite');
    for (const url of ['postgres://cp:pw@db:5432/clawpulse', 'postgresql://db/clawpulse?sslmode=require']) {
      const c = loadConfig({ ...base, CLAWPULSE_STORE: url, CLAWPULSE_HOST: 'web-1' });
      expect(c.store).toEqual({ engine: 'postgres', url });
      expect(c.host).toBe('web-1');
    }
  });

  it('refuses a URL of another kind or without a database, and a bad host id, naming each', () => {
    for (const v of ['mysql://db/x', 'postgres://db', 'postgres://:5432/x']) {
      const e = problems({ CLAWPULSE_STORE: v });
      expect(e.problems[0]?.name).toBe('CLAWPULSE_STORE');
      expect(e.problems[0]?.expected).toMatch(/SQLite file, or a PostgreSQL URL/);
    }
    expect(problems({ CLAWPULSE_HOST: 'a|b' }).problems[0]?.expected).toMatch(/without "\|"/);
    expect(problems({ CLAWPULSE_HOST: 'x'.repeat(65) }).problems[0]?.expected).toMatch(/at most 64/);
    expect(loadConfig({ ...base, CLAWPULSE_HOST: 'x'.repeat(64) }).host).toHaveLength(64);
  });

  it('never shows the password: redacted config, a ConfigError, the display form', () => {
    const url = 'postgres://cp:s3cret-pw@db.example.com:5433/clawpulse?password=s3cret-q&sslmode=require';
    const c = loadConfig({ ...base, CLAWPULSE_STORE: url });
    expect(JSON.stringify(redactConfig(c))).not.toContain('s3cret');
    expect(JSON.stringify(redactConfig(c))).toContain('postgres://cp:[set]@db.example.com:5433/clawpulse');
    expect(displayPgUrl(url)).toBe(
      'postgres://cp:[set]@db.example.com:5433/clawpulse?password=[set]&sslmode=require',
    );
    const bad = problems({
      CLAWPULSE_STORE: 'postgres://cp:s3cret-pw@db.example.com:5433',
      HEALTH_PORT: 'x',
    });
    expect(bad.message).toContain('CLAWPULSE_STORE');
    expect(bad.message).not.toContain('s3cret');
    // a URL put in CLAWPULSE_DB by mistake: refused, pointing at CLAWPULSE_STORE, without the password
    const db = problems({ CLAWPULSE_DB: url });
    expect(db.problems[0]).toMatchObject({ name: 'CLAWPULSE_DB' });
    expect(db.message).toMatch(/goes in CLAWPULSE_STORE/);
    expect(db.message).not.toContain('s3cret');
  });
});
