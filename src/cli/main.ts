#!/usr/bin/env node
import '../polyfill.js'
import { runCli } from './program.js'

process.exitCode = await runCli(process.argv)
