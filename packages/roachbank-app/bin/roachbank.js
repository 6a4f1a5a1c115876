#!/usr/bin/env node
// The CLI, bundled into a few files (`npm run build`, which `npm install` runs
// through `prepare`): Node 20 loads one file much faster than sixty, and a
// command's start-up is what a user feels (see BENCHMARKS.md, start-up).
import '../dist/cli-bundle/main.js';
