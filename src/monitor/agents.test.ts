import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/temp-dir.js';
import { AgentsError, readAgentIds } from './agents.js';

function stateWith(config?: string): string {
  const dir = tempDir('clawpulse-agents-');
  if (config !== undefined) fs.writeFileSync(path.join(dir, 'openclaw.json'), config);
  return dir;
}

describe('agent ids from openclaw.json', () => {
  it('reads agents.list[].id from JSON5 (comments, unquoted keys, trailing commas)', () => {
    const dir = stateWith(`{
      // two agents
      agents: { defaults: { workspace: "~/w" }, list: [ { id: "main", default: true }, { id: 'coding', }, { id: "main" } ], },
    }`);
    expect(readAgentIds(dir)).toEqual({
      ids: ['main', 'coding'],
      origin: `agents.list in ${dir}/openclaw.json`,
    });
  });

  it('is main without a list, or without the file (OpenClaw runs its default agent)', () => {
    expect(readAgentIds(stateWith('{ agents: { defaults: {} } }')).ids).toEqual(['main']);
    expect(readAgentIds(stateWith('{ agents: { list: [] } }')).ids).toEqual(['main']);
    expect(readAgentIds(stateWith()).ids).toEqual(['main']);
  });

  it('names the file when it is not JSON5', () => {
    const dir = stateWith('{ agents: ');
    expect(() => readAgentIds(dir)).toThrow(AgentsError);
    expect(() => readAgentIds(dir)).toThrow(/openclaw\.json is not valid JSON5/);
  });
});
