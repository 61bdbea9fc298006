// Linux /proc readers for the subject's CPU time and memory, and the machine's total CPU time.
// Everything returns null when /proc is not there (not Linux), so the harness still runs and reports "n/a".
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'

let clkTck: number | null = null

/** Clock ticks per second (`getconf CLK_TCK`), 100 on practically every Linux. */
export function ticksPerSecond(): number {
  if (clkTck === null) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })
    const n = r.status === 0 ? Number.parseInt(r.stdout.trim(), 10) : Number.NaN
    clkTck = Number.isFinite(n) && n > 0 ? n : 100
  }
  return clkTck
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/** utime + stime of a process (all its threads), in µs. */
export function processCpuUs(pid: number): number | null {
  const text = readText(`/proc/${pid}/stat`)
  if (text === null) return null
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null
  return ((utime + stime) * 1e6) / ticksPerSecond()
}

/** A `Vm*` line of /proc/<pid>/status (VmRSS, VmHWM, ...), in KiB. */
export function processMemKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  const text = readText(`/proc/${pid}/status`)
  if (text === null) return null
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)
  return m?.[1] === undefined ? null : Number(m[1])
}

/**
 * CPU time used by processes on the machine (all CPUs: user + nice + system), in µs.
 * irq/softirq time is left out on purpose: loopback TCP is mostly processed in softirq, which would charge the
 * benchmark's own traffic to "other processes"; steal (the hypervisor) is not another process either.
 */
export function machineBusyUs(): number | null {
  const text = readText('/proc/stat')
  if (text === null) return null
  const line = text.slice(0, text.indexOf('\n')).split(/\s+/)
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const n = (i: number) => Number(line[i] ?? 0)
  const busy = n(1) + n(2) + n(3)
  return (busy * 1e6) / ticksPerSecond()
}

export interface MachineFacts {
  node: string
  cpu: string
  nproc: number
  os: string
}

export function machineFacts(): MachineFacts {
  const list = cpus()
  let os = `${process.platform} ${process.arch}`
  const rel = readText('/proc/sys/kernel/osrelease')
  if (rel !== null) os = `Linux ${rel.trim()} ${process.arch}`
  return {
    node: process.version,
    cpu: (list[0]?.model ?? 'unknown').trim(),
    nproc: list.length,
    os,
  }
}

// ---- CPU pinning with taskset(1) ----

function taskset(args: string[]): string | null {
  const r = spawnSync('taskset', args, { encoding: 'utf8' })
  return r.status === 0 ? r.stdout : null
}

/** The current affinity list of a process ("0,1" / "0-1"), or null if taskset is unavailable. */
export function getAffinity(pid: number): string | null {
  const out = taskset(['-cp', String(pid)])
  if (out === null) return null
  const m = /:\s*(\S+)\s*$/.exec(out.trim())
  return m?.[1] ?? null
}

/** Pins every thread of `pid` to the CPU list. Returns false if taskset is unavailable or refuses. */
export function setAffinity(pid: number, list: string): boolean {
  return taskset(['-acp', list, String(pid)]) !== null
}
