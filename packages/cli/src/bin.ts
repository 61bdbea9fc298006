#!/usr/bin/env node
import { runCommand } from './main.js'

runCommand(process.argv.slice(2)).then((code) => {
  process.exitCode = code
})
