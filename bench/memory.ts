/// Memory of the servers under test, read from /proc: the kernel's own peak (VmHWM, which
/// /proc/PID/clear_refs can reset between phases) for a single process, and a polled sum of VmRSS
/// over a process tree (c-icap forks children; clamd is a separate process).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'

/// One field of /proc/PID/status in bytes (fields are in kB), or 0 when the process is gone.
export function statusBytes (pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'latin1')
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)
    return match?.[1] === undefined ? 0 : Number(match[1]) * 1024
  } catch {
    return 0
  }
}

/// Resets VmHWM to the current RSS (clear_refs value 5, Linux ≥ 4.0).
export function resetPeak (pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5')
}

/// pid and every process below it.
export function processTree (root: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1')
      // The command name is in parentheses and may contain spaces: ppid is the 2nd field after ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      const list = children.get(ppid) ?? []
      list.push(Number(entry))
      children.set(ppid, list)
    } catch {
      // raced with an exiting process
    }
  }
  const out: number[] = []
  const walk = (pid: number): void => {
    out.push(pid)
    for (const child of children.get(pid) ?? []) walk(child)
  }
  walk(root)
  return out
}

/// Polls the summed VmRSS of some process trees and keeps the maximum seen.
export class RssSampler {
  readonly #roots: readonly number[]
  readonly #timer: NodeJS.Timeout
  #pids: number[]
  #peak = 0
  #ticks = 0

  constructor (roots: readonly number[], intervalMs = 200) {
    this.#roots = roots
    this.#pids = roots.flatMap(processTree)
    this.#timer = setInterval(() => this.sample(), intervalMs)
    this.#timer.unref()
  }

  sample (): void {
    // Re-list the trees now and then: c-icap starts and retires children under load.
    if (++this.#ticks % 10 === 0) this.#pids = this.#roots.flatMap(processTree)
    const total = this.#pids.reduce((sum, pid) => sum + statusBytes(pid, 'VmRSS'), 0)
    if (total > this.#peak) this.#peak = total
  }

  /// Stops polling and returns the peak in bytes.
  stop (): number {
    clearInterval(this.#timer)
    this.sample()
    return this.#peak
  }
}
