/// The console table (issue #16): ICAP throughput of one node with its management console open and
/// the traffic chart polling (/api/traffic?since=… once a second with an API token, as the page
/// polls after its first load, at twice the default page's rate, on one kept-alive connection)
/// against the same node with nobody looking, in alternating order: bench-icap 4 KiB clean bodies,
/// c=8. Beside requests per second, CPU per request from /proc (utime+stime of the
/// node), which a shared machine disturbs less than wall time. Target: under 3 % apart.
import { mkdtemp, rm } from 'node:fs/promises'
import { Agent, request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startScanwallNode, type ScanwallNode } from '../test/helpers/scanwall-node.js'
import { freePort, waitForPort } from '../test/helpers/ports.js'
import { runBenchIcap } from './bench-icap.js'
import { cpuSeconds, median, pairedChange, percentChange } from './records.js'
import { UserDb } from '../src/console/users.js'

export interface ConsoleBenchOptions {
  readonly benchIcap: string
  readonly signaturesDir: string
  readonly seconds: number
  readonly reps: number
}

const pollMs = 1000
/// One kept-alive connection, as a browser keeps to the page's origin (no TLS handshake per poll).
const agent = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false })

async function poll (port: number, token: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    // As the page polls after its first: only the samples since shortly before its last.
    const req = request({ host: '127.0.0.1', port, path: `/api/traffic?since=${Date.now() - 2 * pollMs}`, agent, headers: { authorization: `Bearer ${token}` } }, res => {
      res.resume()
      res.on('end', () => { resolve(res.statusCode ?? 0) })
    })
    req.on('error', reject)
    req.end()
  })
}

interface Sample { readonly rps: number, readonly cpuMsPerRequest: number, readonly polls: number, readonly cpuPerSecond: number }

/// The node's CPU cost of one poll, measured without ICAP load (so the machine's noise is small next
/// to it): CPU seconds over `seconds` with 20 polls a second, less the same time without polls.
async function pollCost (node: ScanwallNode, watcher: { port: number, token: string }, seconds: number): Promise<number> {
  const idle = async (poller: boolean): Promise<{ cpu: number, polls: number }> => {
    const cpu0 = cpuSeconds(node.daemon.pid)
    const until = Date.now() + seconds * 1000
    let polls = 0
    while (Date.now() < until) {
      if (poller) { if (await poll(watcher.port, watcher.token) === 200) polls++ }
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    return { cpu: cpuSeconds(node.daemon.pid) - cpu0, polls }
  }
  const without = await idle(false)
  const withPolls = await idle(true)
  return Math.max(0, withPolls.cpu - without.cpu) / Math.max(1, withPolls.polls)
}

async function measure (node: ScanwallNode, options: ConsoleBenchOptions, watcher: { port: number, token: string } | undefined): Promise<Sample> {
  let polls = 0
  let failed: Error | undefined
  const timer = watcher === undefined
    ? undefined
    : setInterval(() => { poll(watcher.port, watcher.token).then(status => { if (status === 200) polls++; else failed = new Error(`/api/traffic answered ${status}`) }, (err: unknown) => { failed = err instanceof Error ? err : new Error(String(err)) }) }, pollMs)
  const cpu0 = cpuSeconds(node.daemon.pid)
  try {
    const r = await runBenchIcap(options.benchIcap, node, { size: '4k', concurrency: 8, seconds: options.seconds })
    const cpu = cpuSeconds(node.daemon.pid) - cpu0
    if (failed !== undefined) throw failed
    return { rps: r.requests / r.elapsedS, cpuMsPerRequest: r.requests === 0 ? 0 : cpu * 1000 / r.requests, polls, cpuPerSecond: cpu / r.elapsedS }
  } finally {
    clearInterval(timer)
  }
}

export async function runConsoleBench (options: ConsoleBenchOptions): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'scanwall-bench-console-'))
  let node: ScanwallNode | undefined
  try {
    const port = await freePort()
    const stateDir = join(dir, 'console')
    const token = await new UserDb(stateDir).addToken('bench', 'viewer')
    node = await startScanwallNode({
      dir,
      signaturesDir: options.signaturesDir,
      env: { SCANWALL_CONSOLE_PORT: String(port), SCANWALL_CONSOLE_STATE_DIR: stateDir, SCANWALL_STATS_PATH: join(dir, 'records.sqlite'), SCANWALL_LOG_TRANSACTIONS: 'none' },
    })
    // The console starts after the ICAP listener the helper waited for.
    await waitForPort('127.0.0.1', port, 30_000)
    const watcher = { port, token }
    await measure(node, { ...options, seconds: 1 }, watcher)
    const samples = { closed: [] as Sample[], open: [] as Sample[] }
    for (let rep = 0; rep < options.reps; rep++) {
      // Alternate who goes first, so a drift in the machine's load favours neither.
      const order = rep % 2 === 0 ? ['closed', 'open'] as const : ['open', 'closed'] as const
      for (const name of order) samples[name].push(await measure(node, options, name === 'open' ? watcher : undefined))
    }
    const rps = { closed: median(samples.closed.map(s => s.rps)), open: median(samples.open.map(s => s.rps)) }
    const cpu = { closed: median(samples.closed.map(s => s.cpuMsPerRequest)), open: median(samples.open.map(s => s.cpuMsPerRequest)) }
    const polls = samples.open.reduce((n, s) => n + s.polls, 0)
    const perPoll = await pollCost(node, watcher, options.seconds * 2)
    // One poll a second against the CPU the node spends per second under the load.
    const share = perPoll * (1000 / pollMs) / median(samples.closed.map(s => s.cpuPerSecond))
    return [
      '### Management console (issue #16)',
      '',
      `One node, console closed vs open with the traffic chart polling /api/traffic every ${pollMs} ms (${polls} polls answered); ${options.reps} pairs of ${options.seconds} s cells, order alternating; req/s and CPU columns are medians, Δ the median of the per-pair changes (range in brackets). Target: under 3 % apart.`,
      '',
      '| cell | req/s closed | req/s open | Δ | CPU ms/req closed | CPU ms/req open | Δ |',
      '|---|---:|---:|---:|---:|---:|---:|',
      `| 4 KiB clean, c=8 (bench-icap) | ${rps.closed.toFixed(0)} | ${rps.open.toFixed(0)} | ${percentChange(pairedChange(samples.closed.map(s => s.rps), samples.open.map(s => s.rps)))} | ${cpu.closed.toFixed(3)} | ${cpu.open.toFixed(3)} | ${percentChange(pairedChange(samples.closed.map(s => s.cpuMsPerRequest), samples.open.map(s => s.cpuMsPerRequest)))} |`,
      '',
      `Measured apart from the noise of a shared machine: one poll costs the node **${(perPoll * 1000).toFixed(2)} ms CPU** (20 polls/s on the idle node, less the idle node); at one poll a second that is **${(share * 100).toFixed(2)} %** of the CPU the node spent per second under this load.`,
    ].join('\n')
  } finally {
    agent.destroy()
    await node?.daemon.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
