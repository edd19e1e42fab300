/** OpenClaw 2026.9.6: SQLite session store (agents/main/agent/openclaw-agent.sqlite) + gateway. */
import { defineVersionSuite } from './suite.js';

defineVersionSuite('2026.9.6', 'sqlite');
