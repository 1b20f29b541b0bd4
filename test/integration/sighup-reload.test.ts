import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
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
    proc = spawn(process.execPath, [cli, 'start', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] })
    const lines: string[] = []
    let partial = ''
    proc.stdout?.on('data', (d: Buffer) => {
      partial += d.toString()
      const parts = partial.split('\n')
      partial = parts.pop() ?? ''
      lines.push(...parts)
    })
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
