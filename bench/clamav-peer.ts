/// The ClamAV side of the engine benchmark: clamscan and a private clamd (own config, unix socket in
/// a temp dir, stopped by its PID), loading the same DB as Scanwall.
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { connect } from 'node:net'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/// Wall time of a command (its exit status 1 means "found" for ClamAV tools, not failure).
export async function timed (cmd: string, args: string[]): Promise<{ ms: number, stdout: string }> {
  const t = performance.now()
  const r = await run(cmd, args, { maxBuffer: 1 << 26 }).catch((err: { code?: number, stdout?: string, message?: string }) => {
    if (err.code === 1) return { stdout: err.stdout ?? '' }
    throw new Error(`${cmd} failed: ${err.message ?? ''}`)
  })
  return { ms: performance.now() - t, stdout: r.stdout }
}

function rssKib (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
}

async function ping (socket: string): Promise<boolean> {
  return await new Promise(resolve => {
    const c = connect(socket)
    let got = ''
    c.on('connect', () => c.write('zPING\0'))
    c.on('data', d => { got += d.toString() })
    c.on('close', () => { resolve(got.startsWith('PONG')) })
    c.on('error', () => { resolve(false) })
    c.setTimeout(2000, () => c.destroy())
  })
}

export class Clamd {
  readonly conf: string
  readonly #proc: ChildProcess
  private constructor (conf: string, proc: ChildProcess) { this.conf = conf; this.#proc = proc }

  get rssKib (): number { return this.#proc.pid === undefined ? 0 : rssKib(this.#proc.pid) }
  get pid (): number | undefined { return this.#proc.pid }

  /// Starts clamd on dbDir and waits for PONG; returns it with the time that took.
  static async start (stateDir: string, dbDir: string): Promise<{ clamd: Clamd, readyMs: number }> {
    mkdirSync(join(stateDir, 'tmp'), { recursive: true })
    const socket = join(stateDir, 'clamd.sock')
    const conf = join(stateDir, 'clamd.conf')
    writeFileSync(conf, [
      'Foreground yes', `LocalSocket ${socket}`, 'FixStaleSocket yes', `DatabaseDirectory ${dbDir}`,
      `TemporaryDirectory ${join(stateDir, 'tmp')}`, `LogFile ${join(stateDir, 'clamd.log')}`, 'MaxThreads 12',
      'MaxQueue 100', 'SelfCheck 0', 'StreamMaxLength 100M', 'MaxFileSize 100M', 'MaxScanSize 400M', 'Bytecode no', '',
    ].join('\n'))
    const t = performance.now()
    const proc = spawn('clamd', ['-c', conf], { stdio: 'ignore' })
    const clamd = new Clamd(conf, proc)
    for (let i = 0; i < 3000; i++) {
      if (proc.exitCode !== null) throw new Error(`clamd exited with ${proc.exitCode}; see ${stateDir}/clamd.log`)
      if (await ping(socket)) return { clamd, readyMs: performance.now() - t }
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    clamd.stop()
    throw new Error('clamd did not answer PING within 60 s')
  }

  async multiscan (dir: string): Promise<number> {
    return (await timed('clamdscan', [`--config-file=${this.conf}`, '--multiscan', '--no-summary', dir])).ms
  }

  /// RELOAD on the running clamd (its default concurrent reload: the new engine is built beside the
  /// old one) and the kernel's peak RSS of the process over it, VmHWM reset first; returns when
  /// the log says the reload finished.
  async reloadPeakBytes (): Promise<{ steady: number, peak: number }> {
    const pid = this.#proc.pid ?? 0
    const log = join(dirname(this.conf), 'clamd.log')
    const done = (): number => (readFileSync(log, 'latin1').match(/Database correctly reloaded/g) ?? []).length
    const before = done()
    const steady = rssKib(pid) * 1024
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    await timed('clamdscan', [`--config-file=${this.conf}`, '--reload'])
    for (let i = 0; i < 6000 && done() === before; i++) await new Promise(resolve => setTimeout(resolve, 50))
    if (done() === before) throw new Error('clamd did not finish its reload within 300 s')
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1]
    return { steady, peak: Number(hwm ?? 0) * 1024 }
  }

  stop (): void {
    if (this.#proc.exitCode === null) this.#proc.kill('SIGTERM')
  }
}
