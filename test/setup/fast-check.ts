/**
 * Property tests explore new random cases on every local run. In CI (CI=true) they
 * run from one fixed seed, or FC_SEED, so that a landing is reproducible; a failure
 * prints its seed, and FC_SEED=<seed> npm test replays it anywhere.
 */
import fc from 'fast-check';

const seedText = process.env['FC_SEED'] ?? (process.env['CI'] ? '20261126' : undefined);
if (seedText !== undefined) fc.configureGlobal({ seed: Number(seedText) });
