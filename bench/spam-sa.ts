/// Debian's SpamAssassin as the spam bench's peer: a site config of its own (the packaged plugin
/// .pre files, Bayes on, auto-learn and auto-expire off so the folds stay clean), sa-learn on the
/// same folds as ours, and spamd with network tests off (-L) asked over its own protocol (SPAMC/1.5
/// CHECK, what spamc sends) from this process, so spawning spamc per message costs neither side.
/// spamd's CPU time is read from /proc: the parent's own and reaped children's times plus the
/// live children's.
import { spawn, execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from 'node:net'
import { freePort } from '../test/helpers/ports.js'

const run = promisify(execFile)

export interface SaPeer {
  readonly dir: string
  learn (files: readonly string[], as: 'spam' | 'ham' | 'forget'): Promise<void>
  startSpamd (children: number): Promise<void>
  check (message: Buffer): Promise<{ spam: boolean, score: number }>
  /// CPU seconds spamd has used so far (parent and children).
  cpuSeconds (): number
  stop (): Promise<void>
}

const clockTicks = 100

function procCpu (pid: number, withChildren: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // Fields 14-17 of stat (utime, stime, cutime, cstime) are 11-14 after the command.
    const [u, s, cu, cs] = [11, 12, 13, 14].map(i => Number(fields[i]))
    return ((u ?? 0) + (s ?? 0) + (withChildren ? (cu ?? 0) + (cs ?? 0) : 0)) / clockTicks
  } catch {
    return 0
  }
}

function childrenOf (pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

export async function startSaPeer (dir: string): Promise<SaPeer> {
  const site = join(dir, 'site')
  const bayes = join(dir, 'bayes')
  mkdirSync(site, { recursive: true })
  mkdirSync(bayes, { recursive: true })
  chmodSync(dir, 0o777)
  chmodSync(bayes, 0o777)
  for (const f of readdirSync('/etc/spamassassin')) if (f.endsWith('.pre')) copyFileSync(join('/etc/spamassassin', f), join(site, f))
  writeFileSync(join(site, 'local.cf'), [
    'use_bayes 1', 'bayes_auto_learn 0', 'bayes_auto_expire 0', `bayes_path ${bayes}/bayes`, 'bayes_file_mode 0777',
    'skip_rbl_checks 1', 'use_razor2 0', 'use_pyzor 0', 'dns_available no', 'lock_method flock', 'required_score 5.0', '',
  ].join('\n'))
  let spamd: ReturnType<typeof spawn> | undefined
  let port = 0
  const peer: SaPeer = {
    dir,
    async learn (files, as) {
      // Batches keep each command line well under the kernel's argument limit.
      for (let i = 0; i < files.length; i += 1000) {
        await run('sa-learn', [`--siteconfigpath=${site}`, '-L', `--${as}`, '--no-sync', ...files.slice(i, i + 1000)], { maxBuffer: 1 << 24, timeout: 3_600_000 })
      }
      await run('sa-learn', [`--siteconfigpath=${site}`, '-L', '--sync'], { timeout: 600_000 })
      try { for (const f of readdirSync(bayes)) chmodSync(join(bayes, f), 0o666) } catch { /* nothing learned yet */ }
    },
    async startSpamd (children) {
      port = await freePort()
      spamd = spawn('spamd', ['-L', `--siteconfigpath=${site}`, '-x', '-u', 'nobody', '-i', '127.0.0.1', '-p', String(port), '-m', String(children),
        '--min-children', String(children), '--max-conn-per-child', '100000', '--pidfile', join(dir, 'spamd.pid'), '-s', 'stderr'], { stdio: ['ignore', 'ignore', 'pipe'] })
      let errText = ''
      spamd.stderr?.on('data', (b: Buffer) => { errText = (errText + b.toString()).slice(-4000) })
      const deadline = Date.now() + 180_000
      for (;;) {
        try {
          await peer.check(Buffer.from('Subject: ping\r\n\r\nping\r\n'))
          return
        } catch {
          if (Date.now() > deadline || spamd.exitCode !== null) throw new Error(`spamd did not start: ${errText}`)
          await new Promise(resolve => setTimeout(resolve, 500))
        }
      }
    },
    async check (message) {
      return await new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1')
        const chunks: Buffer[] = []
        socket.setTimeout(120_000, () => socket.destroy(new Error('spamd timeout')))
        socket.on('connect', () => {
          socket.write(`CHECK SPAMC/1.5\r\nContent-length: ${message.length}\r\nUser: nobody\r\n\r\n`)
          socket.end(message)
        })
        socket.on('data', b => chunks.push(b))
        socket.on('error', reject)
        socket.on('close', () => {
          const reply = Buffer.concat(chunks).toString('latin1')
          const m = /^Spam: (True|False) ; (-?[\d.]+) \//m.exec(reply)
          if (m === null) { reject(new Error(`spamd reply: ${reply.slice(0, 200)}`)); return }
          resolve({ spam: m[1] === 'True', score: Number(m[2]) })
        })
      })
    },
    cpuSeconds () {
      const pid = spamd?.pid
      if (pid === undefined) return 0
      return procCpu(pid, true) + childrenOf(pid).reduce((sum, c) => sum + procCpu(c, true), 0)
    },
    async stop () {
      if (spamd !== undefined && spamd.exitCode === null) {
        const done = new Promise(resolve => spamd?.once('exit', resolve))
        spamd.kill('SIGTERM')
        await done
      }
      spamd = undefined
    },
  }
  return peer
}
