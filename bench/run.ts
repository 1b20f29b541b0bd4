/// `npm run bench`: RESPMOD throughput and latency of Scanwall against the c-icap + clamd peer, both
/// loaded with the same signatures (the peer harness's db/test) and measured in the same run with the
/// same load generator, cell by cell, alternating who goes first. Then the memory target run
/// (32 concurrent 100 MiB RESPMODs). Prints markdown; a full run also writes it into BENCHMARKS.md.
///
///   npm run bench                 full matrix (4k 64k 1m 16m × c 1 8 32, 3 reps of 3 s), ~8 min
///   npm run bench -- --quick      smoke run (4k 1m × c 1 8, 1 s cells, small memory run), ~1 min
///   options: --peers DIR (peer harness, default ../shared/peers)  --seconds N  --reps N  --no-write  --no-memory
///            --no-matrix (memory run only)  --no-engine  --no-formats  --no-ceiling  --no-clamd  --no-records  --no-console
///            --no-spam --no-milter (skip the engine / unpacking / issue #11 / clamd INSTREAM / decision-records / console /
///            spam / mail (Postfix → milter) tables)
import { parseArgs } from 'node:util'
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { startScanwallNode, repoRoot, type ScanwallNode } from '../test/helpers/scanwall-node.js'
import { startCicapPeer, defaultPeersDir, type CicapPeer } from '../test/helpers/cicap-peer.js'
import { runBenchIcap, type CellResult, type IcapTarget } from './bench-icap.js'
import { RssSampler, resetPeak, statusBytes } from './memory.js'
import { machineConditions, load } from './machine.js'
import { renderMarkdown, writeIntoBenchmarks, type Cell, type MemoryRun } from './report.js'
import { runEngineBench } from './engine.js'
import { runFormatsBench } from './formats.js'
import { runCeilingBench } from './ceiling.js'
import { runClamdBench } from './clamd.js'
import { runRecordsBench } from './records.js'
import { runConsoleBench } from './console.js'
import { runSpamBench } from './spam-accuracy.js'
import { runMilterBench } from './milter.js'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    peers: { type: 'string', default: defaultPeersDir },
    seconds: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    'no-memory': { type: 'boolean', default: false },
    'no-matrix': { type: 'boolean', default: false },
    'no-engine': { type: 'boolean', default: false },
    'no-formats': { type: 'boolean', default: false },
    'no-ceiling': { type: 'boolean', default: false },
    'no-clamd': { type: 'boolean', default: false },
    'no-records': { type: 'boolean', default: false },
    'no-console': { type: 'boolean', default: false },
    'no-spam': { type: 'boolean', default: false },
    'no-milter': { type: 'boolean', default: false },
    reps: { type: 'string' },
  },
})
const quick = values.quick
const seconds = Number(values.seconds ?? (quick ? 1 : 3))
const reps = Number(values.reps ?? (quick ? 1 : 3))
const sizes = quick ? ['4k', '1m'] : ['4k', '64k', '1m', '16m']
const concurrencies = quick ? [1, 8] : [1, 8, 32]
const memoryCell = quick ? { size: '32m', concurrency: 4 } : { size: '100m', concurrency: 32 }
const peersDir = values.peers
const benchIcap = join(peersDir, 'bench-icap')
const signaturesDir = join(peersDir, 'db', 'test')
const argv = process.argv.slice(2)
const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`

const log = (line: string): void => { process.stderr.write(`${line}\n`) }
const short = (r: CellResult): string => `${r.rps} req/s ${r.MBps} MB/s p50 ${r.p50} p99 ${r.p99} err ${r.errors}`

async function main (): Promise<void> {
  const startedAt = new Date().toISOString()
  const machine = machineConditions(repoRoot)
  const dir = await mkdtemp(join(tmpdir(), 'scanwall-bench-'))
  let peer: CicapPeer | undefined
  let node: ScanwallNode | undefined
  try {
    if (!existsSync(benchIcap) || !existsSync(signaturesDir)) throw new Error(`peer harness not found in ${peersDir}: pass --peers DIR (../shared/peers)`)
    log(`bench: peer harness ${peersDir}, signatures ${signaturesDir}, state ${dir}`)
    node = await startScanwallNode({ dir, signaturesDir })
    const ours: IcapTarget = node
    const matrix = !values['no-matrix']
    if (matrix) peer = await startCicapPeer({ peersDir, stateDir: join(dir, 'peer'), dbKind: 'test' })
    const theirs: IcapTarget = peer ?? ours
    log(`bench: c-icap on ${peer?.port ?? '-'}/${peer?.service ?? '-'}, Scanwall on ${node.port}/${node.service} (pid ${node.daemon.pid})`)
    // Warm-up (JIT, worker threads, c-icap children, clamd threads), not recorded.
    for (const target of [theirs, ours]) {
      await runBenchIcap(benchIcap, target, { size: '4k', concurrency: 8, seconds: 2 })
      await runBenchIcap(benchIcap, target, { size: '1m', concurrency: 4, seconds: 1 })
    }
    resetPeak(node.daemon.pid)
    const ourRss = new RssSampler([node.daemon.pid])
    const peerRss = new RssSampler(peer === undefined ? [] : [peer.clamdPid, peer.cicapPid])
    // Repetitions interleave: every cell once, then every cell again, so each cell's reps are spread
    // over the run's changing machine load. 16 MiB cells run once (a 32-wide wave takes minutes).
    const runs = new Map<string, { peer: CellResult[], scanwall: CellResult[] }>()
    let index = 0
    for (let rep = 1; rep <= reps; rep++) {
      for (const size of matrix ? sizes : []) {
        if (rep > 1 && size === '16m') continue
        for (const concurrency of concurrencies) {
          const request = { size, concurrency, seconds }
          // Alternate who runs first, so a drift in the machine's load does not always favour one side.
          const peerFirst = index++ % 2 === 0
          const first = await runBenchIcap(benchIcap, peerFirst ? theirs : ours, request)
          const second = await runBenchIcap(benchIcap, peerFirst ? ours : theirs, request)
          const pair = { peer: peerFirst ? first : second, scanwall: peerFirst ? second : first }
          const key = `${size}/${concurrency}`
          const entry = runs.get(key) ?? { peer: [], scanwall: [] }
          entry.peer.push(pair.peer)
          entry.scanwall.push(pair.scanwall)
          runs.set(key, entry)
          log(`rep ${rep} ${size} c=${concurrency}: c-icap ${short(pair.peer)} | Scanwall ${short(pair.scanwall)} | ratio ${(pair.scanwall.rps / Math.max(pair.peer.rps, 1e-9)).toFixed(2)}x`)
        }
      }
    }
    const cells: Cell[] = [...runs].map(([key, entry]) => {
      const [size = '', concurrency = '0'] = key.split('/')
      return { size, concurrency: Number(concurrency), seconds, peerRuns: entry.peer, scanwallRuns: entry.scanwall }
    })
    const scanwallSampled = ourRss.stop()
    const peerSampled = peerRss.stop()
    const scanwallHwm = statusBytes(node.daemon.pid, 'VmHWM')
    await peer?.stop()
    peer = undefined
    let memory: MemoryRun | undefined
    if (!values['no-memory']) {
      log(`memory run: ${memoryCell.concurrency} × ${memoryCell.size} RESPMOD against Scanwall`)
      resetPeak(node.daemon.pid)
      const sampler = new RssSampler([node.daemon.pid], 100)
      // One wave: each request takes seconds, so a 1 s duration starts every connection's request
      // once (a shorter one can expire before a loaded machine has even opened all 32 connections).
      const result = await runBenchIcap(benchIcap, ours, { ...memoryCell, seconds: 1, extra: ['--same-body'], timeoutS: 900 })
      memory = { ...memoryCell, result, scanwallSampled: sampler.stop(), scanwallHwm: statusBytes(node.daemon.pid, 'VmHWM') }
      log(`memory run: ${short(result)}, peak RSS ${(memory.scanwallHwm / 1048576).toFixed(0)} MiB`)
    }
    const exit = await node.daemon.stop(60_000)
    node = undefined
    if (exit.code !== 0) log(`warning: Scanwall exited with ${JSON.stringify(exit)} on SIGTERM`)
    const run = {
      command,
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: { ...machine, 'load average at end (1/5/15 min)': load() },
      cells,
      scanwallHwm,
      scanwallSampled,
      peerSampled,
      memory,
    }
    const markdown = renderMarkdown(run)
    process.stdout.write(`${markdown}\n`)
    await mkdir(join(repoRoot, '.bench-out'), { recursive: true })
    await writeFile(join(repoRoot, '.bench-out', `bench-${startedAt.replace(/[:.]/g, '-')}.json`), JSON.stringify(run, null, 2))
    if (!quick && !values['no-write']) {
      writeIntoBenchmarks(join(repoRoot, 'BENCHMARKS.md'), markdown)
      log('bench: tables written into BENCHMARKS.md')
    }
  } finally {
    await node?.daemon.stop(10_000)
    await peer?.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

/// The engine table (issue #3: DB load, RSS per worker count, raw MB/s beside clamscan and clamd) and
/// the unpacking table (issue #4: MB/s through unpack + scan beside clamscan) and the clamd INSTREAM
/// cell (issue #15: Scanwall's clamd listener beside clamd), run after the ICAP matrix has stopped its
/// servers so they do not compete for the two cores.
async function sideTables (): Promise<void> {
  const write = !quick && !values['no-write']
  const tables: Array<[string, boolean, () => Promise<string>]> = [
    ['engine', !values['no-engine'], async () => await runEngineBench(quick ? { corpusMb: 32 } : {})],
    ['formats', !values['no-formats'], runFormatsBench],
    ['ceiling', !values['no-ceiling'], async () => await runCeilingBench({ quick })],
    ['clamd', !values['no-clamd'], async () => await runClamdBench(quick ? { seconds: 1, reps: 1, peersDir } : { seconds, reps, peersDir })],
    // Issue #13: Postfix → Scanwall's milter beside Postfix → clamav-milter → clamd, end to end;
    // the full run over TCP and over unix sockets (clamav-milter's waits on TCP are its own: BENCHMARKS.md).
    ['milter', !values['no-milter'], async () => await runMilterBench(quick ? { seconds: 2, reps: 1, peersDir } : { seconds: Math.max(seconds, 5), reps, peersDir, transports: ['tcp', 'unix'] })],
    ['records', !values['no-records'], async () => await runRecordsBench({ benchIcap, signaturesDir, seconds, reps: quick ? 1 : 6, events: quick ? 50_000 : 200_000 })],
    ['console', !values['no-console'], async () => await runConsoleBench({ benchIcap, signaturesDir, seconds, reps: quick ? 1 : 8 })],
    // Issue #14: the full 10 folds beside SpamAssassin take about an hour on the 2-core machine
    // (sa-learn is most of it); --quick runs one fold.
    ['spam', !values['no-spam'], async () => await runSpamBench(quick ? { foldsRun: 1 } : {})],
  ]
  for (const [name, wanted, run] of tables) {
    if (!wanted) continue
    log(`bench: ${name} table`)
    const markdown = (await run()).trim()
    process.stdout.write(`${markdown}\n`)
    if (write) writeIntoBenchmarks(join(repoRoot, 'BENCHMARKS.md'), markdown, name)
  }
}

main().then(sideTables).catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exitCode = 1
})
