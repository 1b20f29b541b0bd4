/// The clamd cell (issue #15): INSTREAM throughput for 4 KiB and 1 MiB objects at concurrency 8,
/// Scanwall's clamd listener against a real clamd loading the same DB (the peer harness's db/test),
/// in the same run with the same load generator (clamd-load.ts: a C client, one connection per
/// object as clamdscan --stream, rspamd and the npm clamscan package do) over each one's unix
/// socket, alternating who goes first. A second 4 KiB row sends the objects as session clients do:
/// 8 IDSESSION connections, a zINSTREAM per object on each, one object in flight per session (so 8
/// in flight, as in the first row). clamdscan --stream -m uses one such session for a directory
/// (ClamAV's clamdscan/proto.c, parallel_client_scan): zIDSESSION, then per file a zINSTREAM sent
/// as soon as the socket is writable, the numbered replies read as they arrive, zEND at the end. The target is Scanwall ≥ 5× clamd's req/s. Beside the rates: each
/// process's CPU µs per answered request (utime + stime from /proc, all threads; for Scanwall also
/// its I/O thread alone, the ceiling of small objects) and the generator's own. Returns a markdown
/// table; `node dist/bench/clamd.js [--seconds N] [--reps N] [--peers DIR] [--client c|node]` runs
/// the cell alone.
import { mkdtempSync, rmSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { startScanwallNode } from '../test/helpers/scanwall-node.js'
import { defaultPeersDir } from '../test/helpers/cicap-peer.js'
import { Clamd } from './clamav-peer.js'
import { instreamLoad, type ClamdCellResult, type LoadClient, type LoadMode } from './clamd-load.js'
import { load } from './machine.js'
import { processTree } from './memory.js'

/// utime + stime (ms) from a /proc stat line (the command name may hold spaces: fields after ')').
function statMs (path: string): number {
  try {
    const fields = readFileSync(path, 'latin1').replace(/^.*\) /s, '').split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return 0 // raced with an exiting process or thread
  }
}

/// CPU time (user + system, ms) a process and its children have used, all threads: a per-request
/// cost that the machine's other load disturbs far less than wall time.
function cpuMs (pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + statMs(`/proc/${p}/stat`), 0)
}

/// CPU ms of a process's main thread alone (Node's I/O thread: where accept, parsing, the leaf scan
/// of small objects and the reply happen).
const mainThreadMs = (pid: number): number => statMs(`/proc/${pid}/task/${pid}/stat`)

/// Live threads of a process by name, CPU ms each name (for the stderr line: where the CPU goes).
function threadsMs (pid: number): Map<string, number> {
  const out = new Map<string, number>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let name: string
    try {
      name = tid === String(pid) ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'latin1').trim()
    } catch {
      continue
    }
    out.set(name, (out.get(name) ?? 0) + statMs(`/proc/${pid}/task/${tid}/stat`))
  }
  return out
}

type Measured = ClamdCellResult & { cpuPerRequest: number, mainPerRequest: number, generatorPerRequest: number, threads: string }

/// Runs one load and, per answered request, the server's CPU µs (all of it and its main thread's)
/// and the load generator's (it shares the CPUs, so it must stay far below the servers' figures).
async function measured (pid: number, socket: string, cell: Cell, seconds: number, client: LoadClient): Promise<Measured> {
  const before = cpuMs(pid)
  const mainBefore = mainThreadMs(pid)
  const threadsBefore = threadsMs(pid)
  const r = await instreamLoad(socket, cell.size, concurrency, seconds, client, cell.mode)
  const per = (ms: number): number => Math.round(ms * 1000 / Math.max(1, r.requests))
  const threads = [...threadsMs(pid)].map(([name, ms]) => [name, ms - (threadsBefore.get(name) ?? 0)] as const)
    .filter(([, ms]) => ms > 0).sort((a, b) => b[1] - a[1]).map(([name, ms]) => `${name} ${per(ms)}`).join(', ')
  return { ...r, cpuPerRequest: per(cpuMs(pid) - before), mainPerRequest: per(mainThreadMs(pid) - mainBefore), generatorPerRequest: per(r.generatorCpuMs), threads }
}

export interface ClamdBenchOptions { readonly seconds?: number, readonly reps?: number, readonly peersDir?: string, readonly client?: LoadClient }

interface Cell { readonly label: string, readonly size: number, readonly mode: LoadMode }
const cells: readonly Cell[] = [
  { label: '4 KiB', size: 4 * 1024, mode: 'connection' },
  { label: '4 KiB, IDSESSION', size: 4 * 1024, mode: 'session' },
  { label: '1 MiB', size: 1024 * 1024, mode: 'connection' },
]
const concurrency = 8
const line = (r: Measured): string => `${r.rps} req/s, ${r.MBps} MB/s, p50 ${r.p50} ms, p99 ${r.p99} ms, CPU ${r.cpuPerRequest} µs/req (main thread ${r.mainPerRequest}; threads: ${r.threads}), generator ${r.generatorPerRequest} µs/req, ${r.errors} errors${r.errorSamples.length > 0 ? ` (${JSON.stringify(r.errorSamples)})` : ''}`

export async function runClamdBench (options: ClamdBenchOptions = {}): Promise<string> {
  const seconds = options.seconds ?? 3
  const reps = options.reps ?? 3
  const client = options.client ?? 'c'
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
    // The IDSESSION load is the C client's alone.
    for (const cell of cells.filter(c => client === 'c' || c.mode === 'connection')) {
      // Warm-up (JIT, worker threads, clamd's threads), not recorded.
      await instreamLoad(theirSocket, cell.size, concurrency, 1, client, cell.mode)
      await instreamLoad(ourSocket, cell.size, concurrency, 1, client, cell.mode)
      const ratios: number[] = []
      const ours: Measured[] = []
      const theirs: Measured[] = []
      for (let rep = 0; rep < reps; rep++) {
        const peerFirst = index++ % 2 === 0
        const a = peerFirst ? await measured(theirPid, theirSocket, cell, seconds, client) : await measured(node.daemon.pid, ourSocket, cell, seconds, client)
        const b = peerFirst ? await measured(node.daemon.pid, ourSocket, cell, seconds, client) : await measured(theirPid, theirSocket, cell, seconds, client)
        const [peer, scanwall] = peerFirst ? [a, b] : [b, a]
        theirs.push(peer)
        ours.push(scanwall)
        ratios.push(scanwall.rps / Math.max(peer.rps, 1e-9))
        process.stderr.write(`clamd cell ${cell.label} c=${concurrency} rep ${rep + 1} (load ${load()}): clamd ${line(peer)} | Scanwall ${line(scanwall)} | ${(ratios.at(-1) ?? 0).toFixed(2)}x\n`)
      }
      const sorted = [...ratios].sort((x, y) => x - y)
      const mid = Math.floor(sorted.length / 2)
      const median = <T extends ClamdCellResult>(list: T[]): T => [...list].sort((x, y) => x.rps - y.rps)[mid] ?? list[0] as T
      const mid2 = (xs: number[]): number => [...xs].sort((x, y) => x - y)[mid] ?? 0
      const cpu = (list: Measured[]): number => mid2(list.map(r => r.cpuPerRequest))
      const main = mid2(ours.map(r => r.mainPerRequest))
      const generator = mid2([...ours, ...theirs].map(r => r.generatorPerRequest))
      const errors = [...ours, ...theirs].reduce((n, r) => n + r.errors, 0)
      rows.push(`| ${cell.label} | ${concurrency} | ${median(theirs).rps} | ${median(ours).rps} | ${median(ours).MBps} | ${(sorted[mid] ?? 0).toFixed(2)}× (${(sorted[0] ?? 0).toFixed(2)}–${(sorted.at(-1) ?? 0).toFixed(2)}) | ${cpu(theirs)} | ${cpu(ours)} (${main}) | ${(cpu(theirs) / Math.max(cpu(ours), 1e-9)).toFixed(2)}× | ${generator} | ${errors} | ${(sorted[mid] ?? 0) >= 5 ? 'met' : '**not met**'} |`)
    }
    return [
      '### clamd INSTREAM (Scanwall\'s clamd listener vs clamd, same DB, same run)',
      '',
      `${reps} × ${seconds} s per side and cell, alternating who goes first; ${client === 'c' ? 'a C client (bench/clamd-load.c)' : 'a Node client'}, zINSTREAM in 64 KiB chunks over each one's unix socket: one connection per object, half-closed (as clamdscan --stream, rspamd, npm clamscan), or in the IDSESSION row 8 sessions (zIDSESSION, then a zINSTREAM per object, its numbered reply read before the next; clamdscan --stream -m sends a directory through one session, pipelined); CPU per answered request in µs (user + system, all threads; Scanwall's I/O thread alone in brackets); load average at end ${load()}.`,
      '',
      '| object | concurrency | clamd req/s | Scanwall req/s | Scanwall MB/s | req/s ratio median (min–max) | clamd CPU µs/req | Scanwall CPU µs/req (I/O thread) | CPU ratio | load generator CPU µs/req | errors | req/s ≥ 5× |',
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
  const clientAt = args.indexOf('--client')
  const client = clientAt >= 0 ? args[clientAt + 1] : undefined
  if (client !== undefined && client !== 'c' && client !== 'node') throw new Error('--client is c or node')
  runClamdBench({ ...(client === undefined ? {} : { client }), ...(seconds === undefined ? {} : { seconds }), ...(reps === undefined ? {} : { reps }), ...(peersAt >= 0 && args[peersAt + 1] !== undefined ? { peersDir: args[peersAt + 1] } : {}) }).then(
    table => { process.stdout.write(table) },
    (err: unknown) => { process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`); process.exitCode = 1 }
  )
}
