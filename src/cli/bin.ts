#!/usr/bin/env node
// The `signalq` command: the package's bin, run as compiled JavaScript (dist/src/cli/bin.js), with no loader.
import { runCli } from './main.ts';

process.exitCode = await runCli(process.argv.slice(2));
