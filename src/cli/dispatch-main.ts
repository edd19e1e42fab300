/** The `clawpulse-dispatch` bin: `clawpulse dispatch …` under the name scripts already call. */
import { runDispatch } from './dispatch.js';

process.exitCode = await runDispatch(process.argv.slice(2));
