#!/usr/bin/env node
// The `signalq` command run from the TypeScript sources, with no build (the process tests and the benchmarks):
// registers tsx, then runs the same entry the package's bin is compiled from (src/cli/bin.ts).
import { register } from 'tsx/esm/api';

register();
await import('./bin.ts');
