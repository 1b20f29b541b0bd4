import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { connect } from 'node:net'
import { promisify } from 'node:util'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))

/// Resolves with the first JSON log line whose msg matches (pino writes one object per line).
function waitForLog (proc: ChildProcess, lines: string[], msg: RegExp, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`no log matching ${String(msg)}; got:\n${lines.join('\n')}`)) }, timeoutMs)
    const check = (): void => {
      for (const line of lines) {
        let rec: Record<string, unknown>
        try { rec = JSON.parse(line) as Record<string, unknown> } catch { continue }
        if (typeof rec['msg'] === 'string' && msg.test(rec['msg'])) { clearTimeout(timer); proc.stdout?.off('data', check); resolve(rec); return }
      }
    }
    proc.stdout?.on('data', check)
    check()
  })
}

/// `scanwall start --config FILE` as a child process, its stdout collected line by line.
function startCli (config: string): { proc: ChildProcess, lines: string[] } {
  const proc = spawn(process.execPath, [cli, 'start', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  let partial = ''
  proc.stdout?.on('data', (d: Buffer) => {
    partial += d.toString()
    const parts = partial.split('\n')
    partial = parts.pop() ?? ''
    lines.push(...parts)
  })
  return { proc, lines }
}

describe('scanwall start: SIGHUP reloads signatures', function () {
  this.timeout(60_000)
  const root = mkdtempSync(join(tmpdir(), 'scanwall-hup-'))
  const db = join(root, 'db')
  let proc: ChildProcess | undefined
  after(() => {
    if (proc?.exitCode === null) proc.kill('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  })

  it('compiles the changed DB in the background, swaps it, keeps it on a broken DB, and still stops cleanly', async () => {
    mkdirSync(db)
    writeFileSync(join(db, 'a.ndb'), 'Hup.One:0:*:deadbeef0102\n')
    const config = join(root, 'config.json')
    writeFileSync(config, JSON.stringify({ icap: { port: 0 }, scan: { workers: 1, spoolDir: join(root, 'spool') }, signatures: { dir: db, cacheDir: join(root, 'cache') } }))
    const started = startCli(config)
    proc = started.proc
    const lines = started.lines
    const loaded = await waitForLog(proc, lines, /^signatures loaded$/)
    await waitForLog(proc, lines, /^ICAP listening$/)
    writeFileSync(join(db, 'a.ndb'), 'Hup.Two:0:*:deadbeef0304\n')
    proc.kill('SIGHUP')
    const reloaded = await waitForLog(proc, lines, /^signatures reloaded$/)
    assert.notEqual(reloaded['version'], loaded['version'])
    writeFileSync(join(db, 'b.ndb'), 'Broken:0:*:zz\n')
    proc.kill('SIGHUP')
    const failed = await waitForLog(proc, lines, /^signature reload failed/)
    assert.match(String(failed['err']), /b\.ndb:1: bad hex/)
    assert.equal(failed['version'], reloaded['version'], 'the loaded DB stays')
    const exited = new Promise<number | null>(resolve => proc?.once('exit', code => { resolve(code) }))
    proc.kill('SIGTERM')
    assert.equal(await exited, 0)
  })
})

describe('scanwall start: SIGHUP and scanwall reload apply a new policy', function () {
  this.timeout(60_000)
  const root = mkdtempSync(join(tmpdir(), 'scanwall-hup-policy-'))
  let proc: ChildProcess | undefined
  after(() => {
    if (proc?.exitCode === null) proc.kill('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  })

  it('applies it on an open connection, refuses a bad one with the reason, and the old one keeps serving', async () => {
    const config = join(root, 'config.json')
    const write = (profiles: object, services: object = {}): void => {
      writeFileSync(config, JSON.stringify({ icap: { port: 0 }, clamd: { port: 0 }, snmp: { enabled: false }, stats: { enabled: false }, scan: { workers: 1, spoolDir: join(root, 'spool') }, signatures: { cacheDir: join(root, 'cache') }, policy: { profiles, services } }))
    }
    write({ default: { transferPreview: 'exe' } })
    const started = startCli(config)
    proc = started.proc
    const lines = started.lines
    const listening = await waitForLog(proc, lines, /^ICAP listening$/)
    const socket = connect(Number(listening['port']), '127.0.0.1')
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    const options = async (): Promise<string> => {
      socket.write('OPTIONS icap://127.0.0.1/avscan ICAP/1.0\r\nHost: 127.0.0.1\r\nEncapsulated: null-body=0\r\n\r\n')
      return await new Promise<string>(resolve => { socket.once('data', (d: Buffer) => { resolve(d.toString('latin1')) }) })
    }
    assert.match(await options(), /Transfer-Preview: exe\r\n/)
    write({ default: { transferPreview: 'dll' } })
    const run = promisify(execFile)
    const ok = await run(process.execPath, [cli, 'reload', '--config', config, '--pid', String(proc.pid)])
    assert.match(ok.stdout, /policy checked; SIGHUP sent/)
    await waitForLog(proc, lines, /^policy reloaded$/)
    assert.match(await options(), /Transfer-Preview: dll\r\n/, 'applied on the connection opened before')
    write({ default: { transferPreview: 'ocx' } }, { avscan: 'nosuch' })
    await assert.rejects(run(process.execPath, [cli, 'reload', '--config', config, '--pid', String(proc.pid)]),
      (err: { code?: number, stderr?: string }) => err.code === 78 && /policy\.services\.avscan: no profile named "nosuch"/.test(err.stderr ?? ''))
    proc.kill('SIGHUP')
    const refused = await waitForLog(proc, lines, /^policy reload refused/)
    assert.match(String(refused['err']), /policy\.services\.avscan: no profile named "nosuch"/)
    assert.match(await options(), /Transfer-Preview: dll\r\n/, 'the old policy keeps serving')
    socket.destroy()
    const exited = new Promise<number | null>(resolve => proc?.once('exit', code => { resolve(code) }))
    proc.kill('SIGTERM')
    assert.equal(await exited, 0)
  })
})
