#!/usr/bin/env -S node --max-semi-space-size=2 --interrupt-budget=1081344 --heap-growing-percent=100
import '../polyfill.js'
import { runCli } from '../cli/index.js'
import { runDaemon } from './run.js'

process.exitCode = await runCli(process.argv, runDaemon)
