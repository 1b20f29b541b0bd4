/// Runs a long-lived program (Scanwall node, Squid, …) as a child process with its output in a log
/// file, and stops it by its own PID: SIGTERM, then SIGKILL after a grace period. Every daemon is also
/// registered for a last-resort SIGKILL when the test process exits, so a failed run leaves nothing.
import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, closeSync, readFileSync } from 'node:fs'

export interface Exit { readonly code: number | null, readonly signal: NodeJS.Signals | null }

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

export class Daemon {
  readonly name: string
  readonly child: ChildProcess
  readonly logFile: string
  readonly exited: Promise<Exit>
  #exit: Exit | undefined

  constructor (name: string, command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv, cwd?: string, logFile: string }) {
    this.name = name
    this.logFile = options.logFile
    const fd = openSync(options.logFile, 'a')
    try {
      this.child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', fd, fd] })
    } finally {
      closeSync(fd)
    }
    running.add(this.child)
    this.exited = new Promise<Exit>(resolve => {
      this.child.once('exit', (code, signal) => {
        running.delete(this.child)
        this.#exit = { code, signal }
        resolve(this.#exit)
      })
      this.child.once('error', () => {
        running.delete(this.child)
        this.#exit = { code: null, signal: null }
        resolve(this.#exit)
      })
    })
  }

  get pid (): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid (spawn failed)`)
    return this.child.pid
  }

  get alive (): boolean { return this.#exit === undefined }

  /// SIGTERM, wait up to graceMs, then SIGKILL. Resolves with how the process ended.
  async stop (graceMs = 10_000): Promise<Exit> {
    if (this.#exit !== undefined) return this.#exit
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs)
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }

  /// The last `bytes` of the log, for failure messages.
  tail (bytes = 4000): string {
    return tailFile(this.logFile, bytes)
  }
}

/// The last `bytes` of a log file, for failure messages.
export function tailFile (file: string, bytes = 4000): string {
  try {
    return readFileSync(file, 'latin1').slice(-bytes)
  } catch {
    return `(no ${file})`
  }
}
