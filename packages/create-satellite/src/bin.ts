#!/usr/bin/env node
import { runCreate } from './main.js'

runCreate(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    console.error(`create-satellite: ${(err as Error).message}`)
    process.exitCode = 1
  },
)
