#!/usr/bin/env node
// The `signalq` command. Registers tsx so the TypeScript sources (and TypeScript handler modules) load as they are.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
