/** vitest setup file: the process tuning bin/tailship.js applies (src/tuning/index.ts), so tests run what ships. */
import { applyProcessTuning } from '../../src/tuning/index.js';

applyProcessTuning();
