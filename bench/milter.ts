/// The mail cell (issue #13): messages per second and p99 through Debian's Postfix → Scanwall's
/// milter versus Postfix → clamav-milter → clamd (bench/milter-peer.ts), both scanners on the peer
/// harness's test DB (db/test, as the ICAP and clamd cells), and Postfix with no milter as a third
/// column (what Postfix alone can carry on this machine). One Postfix instance (its queue on tmpfs)
/// with three smtpd listeners that differ only in `smtpd_milters`, relaying to the bench's SMTP
/// sink; the load generator (bench/smtp-load.ts) keeps `sessions` SMTP sessions busy for `seconds`,
/// and a message counts once the sink has it: throughput and p99 are end to end. Mail: 10 KiB text
/// and 1 MiB with a zip attachment (bench/milter-mail.ts), every message different. Reps alternate
/// who goes first; medians, the ratio, and CPU ms per message of each side's processes (Scanwall;
/// clamav-milter + clamd; Postfix's processes; the load generator) beside wall throughput.
/// Transport: both milters on loopback TCP (Scanwall's default, `inet:`), or both on unix sockets
/// (`--transport unix`, Debian's default for clamav-milter). Over TCP Postfix writes without
/// TCP_NODELAY, so a milter that leaves a write unanswered or answers in two writes waits for a
/// delayed ACK (40 ms); a unix socket has no Nagle, so the second transport shows each milter
/// without those waits (docs/milter.md, BENCHMARKS.md).
/// Target: Scanwall ≥ 3× clamav-milter's messages per second.
///   node dist/bench/milter.js [--quick] [--seconds N] [--reps N] [--sessions N] [--mail text|zip] [--transport tcp|unix|both] [--peers DIR]
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { startScanwallNode, type ScanwallNode } from '../test/helpers/scanwall-node.js'
import { defaultPeersDir } from '../test/helpers/cicap-peer.js'
import { freePort, waitForPort, waitForUnixSocket } from '../test/helpers/ports.js'
import { Postfix } from '../test/helpers/postfix.js'
import { BenchSink, sendMail } from './smtp-load.js'
import { ClamavMilter, postfixMilter, type MilterEndpoint } from './milter-peer.js'
import { mailOf, type MailKind } from './milter-mail.js'
import { processTree } from './memory.js'
import { load } from './machine.js'

export interface MilterBenchOptions {
  readonly seconds?: number
  readonly reps?: number
  readonly sessions?: number
  readonly peersDir?: string
  /// Which mails (default both).
  readonly kinds?: readonly MailKind[]
  /// How Postfix reaches both milters (default TCP only).
  readonly transports?: readonly Transport[]
}

export type Transport = 'tcp' | 'unix'

type Side = 'postfix' | 'clamav' | 'scanwall'
const sideNames: Record<Side, string> = { postfix: 'Postfix alone', clamav: 'clamav-milter', scanwall: 'Scanwall' }

/// The Postfix settings every side runs with. Measured without them first: Postfix's own queue
/// fsyncs and its inflow throttle, not a milter, set the pace (see BENCHMARKS.md).
export const postfixTuning = [
  // Postfix slows down smtpd (up to 1 s per message) when its queue manager lags: off, so the
  // load shows what the milter costs, not a throttle.
  'in_flow_delay = 0',
  'default_process_limit = 200',
  'smtpd_client_connection_count_limit = 0',
  'initial_destination_concurrency = 10',
  'default_destination_concurrency_limit = 50',
  // No reverse DNS lookup of the (loopback) client per session.
  'smtpd_peername_lookup = no',
]

/// CPU ms (user + system) of some processes, their descendants, and the children the roots reaped
/// (Postfix's master reaps smtpd and cleanup processes that exit during a run).
function cpuMs (roots: readonly number[]): number {
  let ticks = 0
  for (const root of roots) {
    for (const pid of processTree(root)) {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, 'latin1').replace(/^.*\) /s, '').split(' ')
        ticks += Number(f[11]) + Number(f[12]) + (pid === root ? Number(f[13]) + Number(f[14]) : 0)
      } catch {
        // exited between the listing and the read
      }
    }
  }
  return ticks * 10
}

interface Run {
  readonly delivered: number
  readonly refused: number
  readonly lost: number
  readonly unscanned: number
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly sideCpu: number
  readonly postfixCpu: number
  readonly clientCpu: number
  readonly refusals: readonly string[]
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
const round = (x: number, places = 1): number => Math.round(x * 10 ** places) / 10 ** places

export async function runMilterBench (options: MilterBenchOptions = {}): Promise<string> {
  const seconds = options.seconds ?? 5
  const reps = options.reps ?? 3
  const sessions = options.sessions ?? 8
  const transports = options.transports ?? ['tcp']
  const rows: string[] = []
  const notes: string[] = []
  for (const transport of transports) {
    const cells = await transportCells(transport, { ...options, seconds, reps, sessions })
    rows.push(...cells.rows)
    notes.push(...cells.notes)
  }
  return [
    '### Mail: Postfix → milter (Scanwall vs clamav-milter → clamd, same DB, same run)',
    '',
    `${reps} × ${seconds} s per side and mail, alternating who goes first; ${sessions} SMTP sessions from the bench's client into one Postfix 3.7 (queue on tmpfs, ` +
    `\`${postfixTuning.join('`, `')}\`) with three smtpd listeners differing only in \`smtpd_milters\`; a message counts when the SMTP sink has it (end to end). ` +
    'Both milters on loopback TCP (`inet:`), and where a row says so both on unix sockets (`unix:`, a fresh Postfix, Scanwall and clamav-milter for that transport). ' +
    "Both milters reject infected mail and add X-Virus-Status, and log no clean message (Scanwall at log level warn, clamav-milter `LogClean Off`); DB: the peer harness's db/test. " +
    "CPU ms per delivered message: Scanwall's process; clamav-milter + clamd; " +
    `Postfix's processes (per side: alone / with clamav-milter / with Scanwall); the load generator and sink. Load average at end ${load()}.`,
    '',
    '| milters over | mail | sessions | Postfix alone msg/s | clamav-milter msg/s | Scanwall msg/s | msg/s ratio median (min–max) | p99 ms (alone / clamav-milter / Scanwall) | clamav-milter + clamd CPU ms/msg | Scanwall CPU ms/msg | CPU ratio | Postfix CPU ms/msg (alone / clamav / Scanwall) | client CPU ms/msg | lost / refused / unscanned | msg/s ≥ 3× |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
    ...rows,
    '',
    ...(notes.length > 0 ? [...notes, ''] : []),
  ].join('\n')
}

/// One transport's cells: its own Postfix, Scanwall node and clamav-milter, every mail kind.
async function transportCells (transport: Transport, options: MilterBenchOptions & { seconds: number, reps: number, sessions: number }): Promise<{ rows: string[], notes: string[] }> {
  const { seconds, reps, sessions } = options
  const db = join(options.peersDir ?? defaultPeersDir, 'db', 'test')
  // tmpfs: Postfix's queue (every message is written and fsynced there) costs the same for every side.
  const dir = mkdtempSync(join('/dev/shm', 'scanwall-bench-milter-'))
  // Postfix's daemons run as user postfix and must reach their queue below it.
  chmodSync(dir, 0o755)
  mkdirSync(join(dir, 'scanwall'))
  // Scanwall's and clamav-milter's milter endpoints; Postfix's smtpd ports (Scanwall, clamav-milter,
  // no milter, and the helper's relay listener, unused here).
  const [ourPort, theirPort, ours, theirs, plain, relay] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()]
  const ourMilter: MilterEndpoint = transport === 'unix' ? { path: join(dir, 'scanwall', 'milter.sock') } : { port: ourPort }
  const theirMilter: MilterEndpoint = transport === 'unix' ? { path: join(dir, 'clamav-milter.sock') } : { port: theirPort }
  let node: ScanwallNode | undefined
  let peer: ClamavMilter | undefined
  let postfix: Postfix | undefined
  const sink = await BenchSink.start()
  try {
    const listen = 'path' in ourMilter ? { SCANWALL_MILTER_PORT: '0', SCANWALL_MILTER_SOCKET: ourMilter.path } : { SCANWALL_MILTER_PORT: String(ourMilter.port) }
    node = await startScanwallNode({ dir: join(dir, 'scanwall'), signaturesDir: db, env: { ...listen, SCANWALL_SNMP_ENABLED: 'false', SCANWALL_LOG_LEVEL: 'warn' } })
    if ('path' in ourMilter) await waitForUnixSocket(ourMilter.path, 30_000)
    else await waitForPort('127.0.0.1', ourMilter.port, 30_000)
    peer = await ClamavMilter.start(join(dir, 'clamav'), db, theirMilter)
    postfix = await Postfix.start({
      dir: join(dir, 'postfix'),
      smtpPort: ours,
      relayPort: relay,
      sinkPort: sink.port,
      milter: postfixMilter(ourMilter),
      extraMain: postfixTuning,
      extraMaster: [
        `127.0.0.1:${theirs} inet n - n - - smtpd -o smtpd_milters=${postfixMilter(theirMilter)}`,
        `127.0.0.1:${plain} inet n - n - - smtpd -o smtpd_milters=`,
      ],
    })
    const pf = postfix
    const ports: Record<Side, number> = { postfix: plain, clamav: theirs, scanwall: ours }
    const pids: Record<Side, number[]> = { postfix: [], clamav: peer.pids, scanwall: [node.daemon.pid] }
    let lastId = 0
    const nextId = (): number => ++lastId

    const once = async (side: Side, kind: MailKind, secs: number): Promise<Run> => {
      const before = { side: cpuMs(pids[side]), postfix: cpuMs([pf.masterPid]) }
      const sent = await sendMail(ports[side], sessions, secs, mailOf(kind), nextId)
      const ids = [...sent.sentAt.keys()]
      // Everything Postfix accepted must reach the sink; a message still missing after 120 s is lost.
      const deadline = performance.now() + 120_000
      while (performance.now() < deadline && ids.some(id => !sink.arrivals.has(id))) await new Promise(resolve => setTimeout(resolve, 50))
      const after = { side: cpuMs(pids[side]), postfix: cpuMs([pf.masterPid]) }
      const arrived = ids.flatMap(id => { const a = sink.arrivals.get(id); return a === undefined ? [] : [{ ms: a.at - (sent.sentAt.get(id) ?? a.at), at: a.at, scanned: a.statusHeader }] })
      const latencies = arrived.map(a => a.ms).sort((a, b) => a - b)
      const at = (q: number): number => round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0)
      const last = Math.max(sent.startedAt + secs * 1000, ...arrived.map(a => a.at))
      const n = Math.max(1, arrived.length)
      return {
        delivered: arrived.length,
        refused: sent.refused,
        lost: ids.length - arrived.length,
        unscanned: side === 'postfix' ? 0 : arrived.filter(a => !a.scanned).length,
        rps: round(arrived.length / ((last - sent.startedAt) / 1000)),
        p50: at(0.5),
        p99: at(0.99),
        sideCpu: round((after.side - before.side) / n, 2),
        postfixCpu: round((after.postfix - before.postfix) / n, 2),
        clientCpu: round(sent.clientCpuMs / n, 2),
        refusals: sent.refusals,
      }
    }

    const rows: string[] = []
    const notes: string[] = []
    let index = 0
    for (const kind of options.kinds ?? ['text', 'zip']) {
      // Warm-up (JIT, worker threads, clamd's threads, Postfix's processes), not recorded.
      for (const side of ['postfix', 'clamav', 'scanwall'] as const) await once(side, kind, 1)
      const runs: Record<Side, Run[]> = { postfix: [], clamav: [], scanwall: [] }
      const ratios: number[] = []
      for (let rep = 0; rep < reps; rep++) {
        // Alternate who goes first; Postfix alone runs between them.
        const order: Side[] = index++ % 2 === 0 ? ['clamav', 'postfix', 'scanwall'] : ['scanwall', 'postfix', 'clamav']
        for (const side of order) runs[side].push(await once(side, kind, seconds))
        ratios.push((runs.scanwall.at(-1)?.rps ?? 0) / Math.max(runs.clamav.at(-1)?.rps ?? 0, 1e-9))
        process.stderr.write(`milter cell ${transport} ${kind} rep ${rep + 1}: ${(['postfix', 'clamav', 'scanwall'] as const).map(side => {
          const r = runs[side].at(-1)
          if (r === undefined) return ''
          return `${sideNames[side]} ${r.rps} msg/s p99 ${r.p99} ms cpu ${r.sideCpu}+pf ${r.postfixCpu} ms/msg lost ${r.lost} refused ${r.refused}${r.refusals.length > 0 ? ` (${r.refusals.join('; ')})` : ''}`
        }).join(' | ')} | ratio ${(ratios.at(-1) ?? 0).toFixed(2)}x (load ${load()})\n`)
      }
      const med = (side: Side, field: 'rps' | 'p99' | 'sideCpu' | 'postfixCpu' | 'clientCpu'): number => median(runs[side].map(r => r[field]))
      const sum = (side: Side, field: 'lost' | 'refused' | 'unscanned'): number => runs[side].reduce((s, r) => s + r[field], 0)
      const sorted = [...ratios].sort((a, b) => a - b)
      const ratio = median(ratios)
      const label = kind === 'text' ? '10 KiB text' : '1 MiB, zip attachment'
      rows.push(`| ${transport === 'tcp' ? 'TCP' : 'unix socket'} | ${label} | ${sessions} | ${med('postfix', 'rps')} | ${med('clamav', 'rps')} | ${med('scanwall', 'rps')} | ${ratio.toFixed(2)}× (${(sorted[0] ?? 0).toFixed(2)}–${(sorted.at(-1) ?? 0).toFixed(2)}) | ` +
        `${med('postfix', 'p99')} / ${med('clamav', 'p99')} / ${med('scanwall', 'p99')} | ${med('clamav', 'sideCpu')} | ${med('scanwall', 'sideCpu')} | ` +
        `${(med('clamav', 'sideCpu') / Math.max(med('scanwall', 'sideCpu'), 1e-9)).toFixed(2)}× | ${med('postfix', 'postfixCpu')} / ${med('clamav', 'postfixCpu')} / ${med('scanwall', 'postfixCpu')} | ` +
        `${med('scanwall', 'clientCpu')} | ${sum('clamav', 'lost') + sum('scanwall', 'lost') + sum('postfix', 'lost')} / ${sum('clamav', 'refused') + sum('scanwall', 'refused') + sum('postfix', 'refused')} / ${sum('clamav', 'unscanned') + sum('scanwall', 'unscanned')} | ${ratio >= 3 ? 'met' : '**not met**'} |`)
      if (med('scanwall', 'rps') >= 0.8 * med('postfix', 'rps')) notes.push(`${label} over ${transport}: Scanwall's side runs at ${Math.round(100 * med('scanwall', 'rps') / Math.max(med('postfix', 'rps'), 1e-9))} % of Postfix alone: Postfix (and the two cores it shares with the scanner) sets the pace, not the milter.`)
    }
    return { rows, notes }
  } finally {
    await postfix?.stop()
    peer?.stop()
    await node?.daemon.stop(10_000)
    await sink.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, seconds: { type: 'string' }, reps: { type: 'string' }, sessions: { type: 'string' }, peers: { type: 'string' }, mail: { type: 'string' }, transport: { type: 'string' } } })
  const number = (text: string | undefined, fallback: number): number => text === undefined ? fallback : Number(text)
  runMilterBench({
    seconds: number(values.seconds, values.quick ? 2 : 5),
    reps: number(values.reps, values.quick ? 1 : 3),
    sessions: number(values.sessions, 8),
    ...(values.peers === undefined ? {} : { peersDir: values.peers }),
    ...(values.mail === 'text' || values.mail === 'zip' ? { kinds: [values.mail] } : {}),
    ...(values.transport === 'tcp' || values.transport === 'unix' ? { transports: [values.transport] } : values.transport === 'both' ? { transports: ['tcp', 'unix'] } : {}),
  }).then(
    table => { process.stdout.write(table) },
    (err: unknown) => { process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`); process.exitCode = 1 }
  )
}
