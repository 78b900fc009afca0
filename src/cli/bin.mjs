#!/usr/bin/env node
// The `signalq` command. Registers tsx so the TypeScript sources (and TypeScript handler modules) load as they are.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('./main.ts');
process.exitCode = await runCli(process.argv.slice(2));
