/// The clamd cell (issue #15): INSTREAM throughput for 4 KiB and 1 MiB objects at concurrency 8,
/// Scanwall's clamd listener against a real clamd loading the same DB (the peer harness's db/test),
/// in the same run with the same load generator (clamd-load.ts) over each one's unix socket,
/// alternating who goes first. The target is Scanwall ≥ 5× clamd's req/s. Returns a markdown table;
/// `node dist/bench/clamd.js [--seconds N] [--reps N] [--peers DIR]` runs the cell alone.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { startScanwallNode } from '../test/helpers/scanwall-node.js'
import { defaultPeersDir } from '../test/helpers/cicap-peer.js'
import { Clamd } from './clamav-peer.js'
import { instreamLoad, type ClamdCellResult } from './clamd-load.js'
import { load } from './machine.js'
import { readFileSync } from 'node:fs'
import { processTree } from './memory.js'

/// CPU time (user + system, ms) a process and its children-threads have used: a per-request cost
/// that the machine's other load disturbs far less than wall time.
function cpuMs (pid: number): number {
  let ticks = 0
  for (const p of processTree(pid)) {
    const fields = readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
    ticks += Number(fields[11]) + Number(fields[12])
  }
  return ticks * 10
}

type Measured = ClamdCellResult & { cpuPerRequest: number, generatorPerRequest: number }

/// Runs one load and the server's CPU ms per answered request during it, and the load generator's
/// (this process: it shares the CPUs, so it must stay far below the servers' figures).
async function measured (pid: number, socket: string, size: number, seconds: number): Promise<Measured> {
  const before = cpuMs(pid)
  const ours = process.cpuUsage()
  const r = await instreamLoad(socket, size, concurrency, seconds)
  const used = process.cpuUsage(ours)
  const per = (ms: number): number => Math.round(ms / Math.max(1, r.requests) * 100) / 100
  return { ...r, cpuPerRequest: per(cpuMs(pid) - before), generatorPerRequest: per((used.user + used.system) / 1000) }
}

export interface ClamdBenchOptions { readonly seconds?: number, readonly reps?: number, readonly peersDir?: string }

const cells = [{ label: '4 KiB', size: 4 * 1024 }, { label: '1 MiB', size: 1024 * 1024 }]
const concurrency = 8
const line = (r: Measured): string => `${r.rps} req/s, ${r.MBps} MB/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.cpuPerRequest} CPU ms/req (generator ${r.generatorPerRequest}), ${r.errors} errors`

export async function runClamdBench (options: ClamdBenchOptions = {}): Promise<string> {
  const seconds = options.seconds ?? 3
  const reps = options.reps ?? 3
  const db = join(options.peersDir ?? defaultPeersDir, 'db', 'test')
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-bench-clamd-'))
  const ourSocket = join(dir, 'scanwall-clamd.sock')
  let clamd: Clamd | undefined
  const node = await startScanwallNode({ dir, signaturesDir: db, env: { SCANWALL_CLAMD_PORT: '0', SCANWALL_CLAMD_SOCKET: ourSocket, SCANWALL_SNMP_ENABLED: 'false', SCANWALL_LOG_LEVEL: 'warn' } })
  try {
    clamd = (await Clamd.start(join(dir, 'clamd'), db)).clamd
    const theirSocket = join(dir, 'clamd', 'clamd.sock')
    const theirPid = clamd.pid
    if (theirPid === undefined) throw new Error('clamd has no pid')
    const rows: string[] = []
    let index = 0
    for (const cell of cells) {
      // Warm-up (JIT, worker threads, clamd's threads), not recorded.
      await instreamLoad(theirSocket, cell.size, concurrency, 1)
      await instreamLoad(ourSocket, cell.size, concurrency, 1)
      const ratios: number[] = []
      const ours: Measured[] = []
      const theirs: Measured[] = []
      for (let rep = 0; rep < reps; rep++) {
        const peerFirst = index++ % 2 === 0
        const a = peerFirst ? await measured(theirPid, theirSocket, cell.size, seconds) : await measured(node.daemon.pid, ourSocket, cell.size, seconds)
        const b = peerFirst ? await measured(node.daemon.pid, ourSocket, cell.size, seconds) : await measured(theirPid, theirSocket, cell.size, seconds)
        const [peer, scanwall] = peerFirst ? [a, b] : [b, a]
        theirs.push(peer)
        ours.push(scanwall)
        ratios.push(scanwall.rps / Math.max(peer.rps, 1e-9))
        process.stderr.write(`clamd cell ${cell.label} c=${concurrency} rep ${rep + 1}: clamd ${line(peer)} | Scanwall ${line(scanwall)} | ${(ratios.at(-1) ?? 0).toFixed(2)}x\n`)
      }
      const sorted = [...ratios].sort((x, y) => x - y)
      const mid = Math.floor(sorted.length / 2)
      const median = <T extends ClamdCellResult>(list: T[]): T => [...list].sort((x, y) => x.rps - y.rps)[mid] ?? list[0] as T
      const mid2 = (xs: number[]): number => [...xs].sort((x, y) => x - y)[mid] ?? 0
      const cpu = (list: Measured[]): number => mid2(list.map(r => r.cpuPerRequest))
      const generator = mid2([...ours, ...theirs].map(r => r.generatorPerRequest))
      const errors = [...ours, ...theirs].reduce((n, r) => n + r.errors, 0)
      rows.push(`| ${cell.label} | ${concurrency} | ${median(theirs).rps} | ${median(ours).rps} | ${median(ours).MBps} | ${(sorted[mid] ?? 0).toFixed(2)}× (${(sorted[0] ?? 0).toFixed(2)}–${(sorted.at(-1) ?? 0).toFixed(2)}) | ${cpu(theirs)} | ${cpu(ours)} | ${(cpu(theirs) / Math.max(cpu(ours), 1e-9)).toFixed(2)}× | ${generator} | ${errors} | ${(sorted[mid] ?? 0) >= 5 ? 'met' : '**not met**'} |`)
    }
    return [
      '### clamd INSTREAM (Scanwall\'s clamd listener vs clamd, same DB, same run)',
      '',
      `${reps} × ${seconds} s per side and cell, alternating who goes first; zINSTREAM in 64 KiB chunks over each one's unix socket; load average at end ${load()}.`,
      '',
      '| object | concurrency | clamd req/s | Scanwall req/s | Scanwall MB/s | req/s ratio median (min–max) | clamd CPU ms/req | Scanwall CPU ms/req | CPU ratio | load generator CPU ms/req | errors | req/s ≥ 5× |',
      '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
      ...rows,
      '',
    ].join('\n')
  } finally {
    clamd?.stop()
    await node.daemon.stop(10_000)
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  const value = (name: string): number | undefined => { const at = args.indexOf(name); return at >= 0 ? Number(args[at + 1]) : undefined }
  const peersAt = args.indexOf('--peers')
  const seconds = value('--seconds')
  const reps = value('--reps')
  runClamdBench({ ...(seconds === undefined ? {} : { seconds }), ...(reps === undefined ? {} : { reps }), ...(peersAt >= 0 && args[peersAt + 1] !== undefined ? { peersDir: args[peersAt + 1] } : {}) }).then(
    table => { process.stdout.write(table) },
    (err: unknown) => { process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`); process.exitCode = 1 }
  )
}
