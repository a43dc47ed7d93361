#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (compiled by `npm ci` through the prepare script).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
