#!/usr/bin/env -S node --max-semi-space-size=2
import '../polyfill.js'
import { runCli } from './program.js'

process.exitCode = await runCli(process.argv)
