#!/usr/bin/env node
// The `mono` executable: the CLI compiled into dist/ by `npm install` (the prepare script runs tsc).
import { runCli } from '../dist/cli/main.js';

await runCli();
