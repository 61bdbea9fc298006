#!/usr/bin/env node
// Checks that every relative link in README.md and docs/*.md points at an existing file,
// and that every #anchor (in the same file or in another Markdown file) names a heading
// there, using GitHub's heading slugs. External links (http:, mailto:, ...) are not
// fetched. Links inside fenced code blocks and inline code are ignored.
// Usage: node scripts/check-doc-links.mjs [files...]   Exit code 1 when a link is broken.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** GitHub's slug for a heading text: lower case, punctuation dropped, spaces to hyphens. */
export function slug(text) {
  return text
    .replace(/`([^`]*)`/g, '$1')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

/** Removes fenced code blocks (keeping line numbers) and inline code spans. */
function prose(markdown) {
  let fence = null
  return markdown.split('\n').map((line) => {
    const m = /^\s*(`{3,}|~{3,})/.exec(line)
    if (fence) {
      if (m && m[1][0] === fence[0] && m[1].length >= fence.length) fence = null
      return ''
    }
    if (m) {
      fence = m[1]
      return ''
    }
    return line.replace(/(`+)[^`]*?\1/g, '')
  })
}

/** The anchors a Markdown file defines: heading slugs (with -1, -2 for repeats) and ids. */
export function anchors(markdown) {
  const seen = new Map()
  const out = new Set()
  let fence = null
  for (const line of markdown.split('\n')) {
    const m = /^\s*(`{3,}|~{3,})/.exec(line)
    if (fence) {
      if (m && m[1][0] === fence[0] && m[1].length >= fence.length) fence = null
      continue
    }
    if (m) {
      fence = m[1]
      continue
    }
    const h = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (h) {
      const base = slug(h[1])
      const n = seen.get(base) ?? 0
      seen.set(base, n + 1)
      out.add(n === 0 ? base : `${base}-${n}`)
    }
    for (const a of line.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) out.add(a[1])
  }
  return out
}

/** Broken links of one file, as `file:line: message` strings. */
export function check(file) {
  const text = readFileSync(file, 'utf8')
  const problems = []
  const cache = new Map()
  const anchorsOf = (f) => {
    if (!cache.has(f)) cache.set(f, anchors(readFileSync(f, 'utf8')))
    return cache.get(f)
  }
  prose(text).forEach((line, i) => {
    const targets = [
      ...[...line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
      ...[...line.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/g)].map((m) => m[1]),
    ]
    for (const target of targets) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // http:, https:, mailto:, ...
      const where = `${relative(root, file)}:${i + 1}`
      const [path, anchor] = target.split('#', 2)
      const dest = path ? resolve(dirname(file), decodeURIComponent(path)) : file
      if (!existsSync(dest)) {
        problems.push(`${where}: ${target}: no such file ${relative(root, dest)}`)
        continue
      }
      if (anchor === undefined || anchor === '') continue
      if (statSync(dest).isDirectory() || !dest.endsWith('.md')) {
        problems.push(`${where}: ${target}: an anchor into a file that is not Markdown`)
        continue
      }
      if (!anchorsOf(dest).has(decodeURIComponent(anchor))) {
        problems.push(`${where}: ${target}: no heading #${anchor} in ${relative(root, dest)}`)
      }
    }
  })
  return problems
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const files = args.length
    ? args.map((f) => resolve(f))
    : [
        join(root, 'README.md'),
        ...readdirSync(join(root, 'docs'))
          .filter((f) => f.endsWith('.md'))
          .map((f) => join(root, 'docs', f)),
      ]
  const problems = files.flatMap(check)
  for (const p of problems) console.error(p)
  console.log(`${files.length} files checked, ${problems.length} broken links`)
  process.exitCode = problems.length ? 1 : 0
}
