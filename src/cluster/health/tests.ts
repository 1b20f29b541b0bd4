/// The built-in health tests and the custom (executable + exit code) one. Each returns pass/fail
/// and a short detail; each runs under its own timeout.
import { execFile } from 'node:child_process'
import { connect } from 'node:net'
import { readFile, statfs, stat, readdir, writeFile, unlink, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { cpus, loadavg } from 'node:os'
import type { HealthTestConfig } from '../config.js'

export interface HealthResult { readonly ok: boolean, readonly detail: string }

/// What the built-in tests need from the node (no imports of protocols or services).
export interface HealthContext {
  readonly icap: { host: string, port: number, service: string }
  /// A tiny scan through a live pool worker, aborted after timeoutMs (ScanService.probe).
  poolProbe (timeoutMs: number): Promise<HealthResult>
  readonly spoolDir: string
  readonly signaturesDir: string
}

async function execTest (command: string[], timeoutMs: number): Promise<HealthResult> {
  const [file, ...args] = command
  return await new Promise(resolve => {
    execFile(file ?? '', args, { timeout: timeoutMs }, (err) => {
      if (err === null) resolve({ ok: true, detail: 'exit 0' })
      else resolve({ ok: false, detail: 'code' in err && err.code !== undefined ? `exit ${String(err.code)}` : err.message })
    })
  })
}

/// TCP connect; a refusal also proves the address is reachable (something answered).
async function tcpProbe (host: string, port: number, timeoutMs: number, request?: string): Promise<HealthResult> {
  return await new Promise(resolve => {
    const socket = connect({ host, port })
    let data = ''
    const done = (r: HealthResult): void => { clearTimeout(timer); socket.destroy(); resolve(r) }
    const timer = setTimeout(() => done({ ok: false, detail: 'timeout' }), timeoutMs)
    socket.on('connect', () => {
      if (request === undefined) done({ ok: true, detail: 'connected' })
      else socket.write(request)
    })
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1')
      if (data.includes('\r\n')) done(/^ICAP\/1\.0 200/.test(data) ? { ok: true, detail: 'OPTIONS 200' } : { ok: false, detail: data.split('\r\n')[0] ?? '' })
    })
    socket.on('end', () => done({ ok: false, detail: 'closed without an answer' }))
    socket.on('error', (err: NodeJS.ErrnoException) => done(request === undefined && err.code === 'ECONNREFUSED' ? { ok: true, detail: 'refused (reachable)' } : { ok: false, detail: err.code ?? err.message }))
  })
}

async function spoolTest (dir: string, minFree: number): Promise<HealthResult> {
  await mkdir(dir, { recursive: true })
  const fs = await statfs(dir)
  const free = fs.bavail * fs.bsize
  if (free < minFree) return { ok: false, detail: `free ${free} < ${minFree}` }
  const probe = join(dir, `.health-${process.pid}`)
  await writeFile(probe, 'x')
  await unlink(probe)
  return { ok: true, detail: `free ${free}` }
}

async function sigdbTest (dir: string, maxAgeHours: number): Promise<HealthResult> {
  let newest = 0
  for (const f of await readdir(dir)) newest = Math.max(newest, (await stat(join(dir, f))).mtimeMs)
  const hours = (Date.now() - newest) / 3_600_000
  return { ok: hours <= maxAgeHours, detail: `newest signature file ${hours.toFixed(1)} h old` }
}

async function runOne (test: HealthTestConfig, ctx: HealthContext): Promise<HealthResult> {
  switch (test.kind) {
    case 'exec': return await execTest(test.command, test.timeoutMs)
    case 'icap': return await tcpProbe(ctx.icap.host, ctx.icap.port, test.timeoutMs,
      `OPTIONS icap://${ctx.icap.host}:${ctx.icap.port}/${ctx.icap.service} ICAP/1.0\r\nHost: ${ctx.icap.host}\r\nEncapsulated: null-body=0\r\n\r\n`)
    case 'pool': return await ctx.poolProbe(test.timeoutMs)
    case 'link': {
      const state = (await readFile(`/sys/class/net/${test.interface}/operstate`, 'utf8')).trim()
      return { ok: state === 'up' || state === 'unknown', detail: `operstate ${state}` }
    }
    case 'reach': return await tcpProbe(test.host, test.port, test.timeoutMs)
    case 'load': {
      const load = (loadavg()[0] ?? 0) / Math.max(1, cpus().length)
      return { ok: load <= test.max, detail: `load ${load.toFixed(2)} per core` }
    }
    case 'spool': return await spoolTest(ctx.spoolDir, test.minFreeBytes)
    case 'sigdb': return await sigdbTest(ctx.signaturesDir, test.maxAgeHours)
  }
}

/// Runs one test under its timeout; an exception is a failure with its message.
export async function runHealthTest (test: HealthTestConfig, ctx: HealthContext): Promise<HealthResult> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<HealthResult>(resolve => { timer = setTimeout(() => resolve({ ok: false, detail: 'timeout' }), test.timeoutMs) })
  try {
    return await Promise.race([runOne(test, ctx).catch((err: unknown) => ({ ok: false, detail: err instanceof Error ? err.message : String(err) })), timeout])
  } finally {
    clearTimeout(timer)
  }
}
