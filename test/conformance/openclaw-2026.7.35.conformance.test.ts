/** OpenClaw 2026.7.35: sessions.json + JSONL transcripts + gateway. */
import { defineVersionSuite } from './suite.js';

defineVersionSuite('2026.7.35', 'files');
