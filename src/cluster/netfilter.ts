/// The node's kernel filter for one cluster instance, in nftables.
/// - A persistent base table (ip scanwall_base_<name>) DROPs every new connection to the virtual
///   address that no live owner marked, every mid-stream packet conntrack has no state for, and every
///   other TCP port of the virtual address. It outlives the process on purpose: a node whose agent
///   died must stay silent (a RST or a stray accept races the real owner's SYN-ACK).
/// - An owner table (ip scanwall_<name>, `flags owner`) marks new connections whose bucket,
///   jhash(ip saddr . tcp sport) mod B with an explicit seed, this node owns. It is created by a
///   long-lived `nft -i` child whose stdin is a pipe from this process: when the process dies, nft
///   reads EOF and exits, its netlink socket closes, and the kernel drops the table, so bucket
///   ownership ends with the process, not with the host.
/// - Multicast-MAC mode adds a persistent arp table (arp scanwall_base_<name>) that puts the cluster
///   MAC in every ARP reply for the virtual address, and, in the owner table, prerouting that turns
///   frames to that MAC into PACKET_HOST (TCP ignores link-layer multicast). The ARP rewrite must
///   outlive the process: a host whose agent died would otherwise answer ARP with its own unicast
///   MAC, and a client that takes that reply first (Linux keeps the first reply within locktime)
///   sends everything to the silent host. Hub mode (identical unicast MAC on every node, a segment
///   that floods) needs neither.
/// Each update is one nft command line (flush chain + add rule), which nft commits as one
/// transaction, followed by a listing used as the acknowledgement.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { getPriority, setPriority } from 'node:os'
import { renderResetProbe, parseResetListing, type ResetSample } from './resets.js'
import type { OwnershipSink } from './types.js'
import type { ResetCounter } from './reset-guard.js'
import type { Logger } from '../log.js'
import { ScanwallError, errorMessage, isScanwallError } from '../errors.js'

export interface FilterOptions {
  /// Instance name: part of the table names, [a-z0-9_]+.
  readonly name: string
  readonly vip: string
  readonly ports: readonly number[]
  readonly buckets: number
  readonly seed: number
  readonly mark: number
  readonly mode: 'hub' | 'multicast'
  /// Cluster MAC (multicast mode): put into ARP replies for the virtual address.
  readonly clusterMac: string
  readonly nft: string
}

/// Nice levels the owner process runs above the node (lower is sooner).
const ownerPriorityBoost = 10

/// How long one nft transaction plus its listing may take before the owner process counts as hung.
const ackTimeoutMs = 5000

const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`
const portSet = (ports: readonly number[]): string => `{ ${ports.join(', ')} }`

export function baseTable (o: FilterOptions): string { return `scanwall_base_${o.name}` }
export function ownerTable (o: FilterOptions): string { return `scanwall_${o.name}` }

/// The persistent base tables, idempotent: create, flush, define, in one `nft -f` transaction.
export function renderBase (o: FilterOptions): string {
  const t = baseTable(o)
  const lines = [
    `table ip ${t} {}`,
    `flush table ip ${t}`,
    `table ip ${t} {`,
    '  chain in {',
    '    type filter hook input priority 0; policy accept;',
    `    ip daddr ${o.vip} tcp dport != ${portSet(o.ports)} drop`,
    `    ip daddr ${o.vip} tcp dport ${portSet(o.ports)} ct state invalid drop`,
    `    ip daddr ${o.vip} tcp dport ${portSet(o.ports)} ct state new meta mark != ${hex(o.mark)} drop`,
    '  }',
    '}',
  ]
  if (o.mode === 'hub') {
    // A host switched from multicast to hub mode must not keep rewriting ARP replies.
    lines.push(`table arp ${t} {}`, `delete table arp ${t}`)
  } else {
    lines.push(
      `table arp ${t} {}`,
      `flush table arp ${t}`,
      `table arp ${t} {`,
      '  chain out {',
      '    type filter hook output priority 0; policy accept;',
      `    arp operation reply arp saddr ip ${o.vip} arp saddr ether set ${o.clusterMac}`,
      '  }',
      '}'
    )
  }
  return `${lines.join('\n')}\n`
}

/// Commands that create the owner tables (one line each, sent to `nft -i`), with the counter of
/// bare resets from the virtual address (resets.ts: another host answers for our buckets).
export function renderOwnerSetup (o: FilterOptions): string[] {
  const t = ownerTable(o)
  const lines = [
    `add table ip ${t} { flags owner; }`,
    `add chain ip ${t} in { type filter hook input priority -150; policy accept; }`,
    ...renderResetProbe(t, { vip: o.vip, ports: o.ports, buckets: o.buckets, seed: o.seed }),
  ]
  if (o.mode === 'multicast') {
    lines.push(
      `add chain ip ${t} pre { type filter hook prerouting priority -150; policy accept; }`,
      `add rule ip ${t} pre ip daddr ${o.vip} meta pkttype multicast meta pkttype set host`
    )
  }
  return lines
}

/// Compresses sorted buckets into nft set elements: 1, 2, 3, 7 → "1-3, 7".
export function bucketElements (owned: readonly number[]): string {
  const sorted = [...owned].sort((a, b) => a - b)
  const parts: string[] = []
  let i = 0
  while (i < sorted.length) {
    const start = sorted[i] ?? 0
    let end = start
    while (sorted[i + 1] === end + 1) { end++; i++ }
    parts.push(start === end ? `${start}` : `${start}-${end}`)
    i++
  }
  return parts.join(', ')
}

/// One atomic command line: replace the accept rule by one for exactly `owned` (none: no rule).
export function renderOwned (o: FilterOptions, owned: readonly number[]): string {
  const t = ownerTable(o)
  const flush = `flush chain ip ${t} in`
  if (owned.length === 0) return flush
  return `${flush}; add rule ip ${t} in ip daddr ${o.vip} tcp dport ${portSet(o.ports)} ct state new ` +
    `jhash ip saddr . tcp sport mod ${o.buckets} seed ${hex(o.seed)} { ${bucketElements(owned)} } counter meta mark set ${hex(o.mark)}`
}

async function run (cmd: string, args: string[], input: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.on('error', reject)
    child.on('close', code => code === 0 ? resolve() : reject(new ScanwallError('CLUSTER_NETFILTER', `${cmd} ${args.join(' ')}: ${err.trim() || `exit ${String(code)}`}`)))
    child.stdin.end(input)
  })
}

/// The owner process does tiny work that a hand-over waits for (the window in which a moving bucket
/// has no owner is one message plus one nft transaction on each side): on a busy host it must not
/// wait behind the scan workers for a CPU. Root may raise it; elsewhere it keeps the node's priority.
function raisePriority (pid: number | undefined, log: Logger): void {
  if (pid === undefined) return
  try {
    setPriority(pid, Math.max(-20, getPriority() - ownerPriorityBoost))
  } catch (err) {
    log.debug({ err: errorMessage(err) }, 'could not raise the nft owner process priority')
  }
}

/// Per-namespace conntrack knob: never pick up another node's connection mid-stream.
async function setTcpLoose (log: Logger): Promise<void> {
  const path = '/proc/sys/net/netfilter/nf_conntrack_tcp_loose'
  try {
    await writeFile(path, '0')
  } catch (err) {
    log.warn({ err }, 'could not set nf_conntrack_tcp_loose=0: established connections may be picked up mid-stream')
  }
  try {
    if ((await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim() !== '0') log.warn('ip_forward is on: with identical cluster MACs every node would forward every other node\'s frames')
  } catch {}
}

/// The kernel side of one instance: base table, owner tables, and the updates the agent asks for.
export class NetfilterSink implements OwnershipSink, ResetCounter {
  readonly #o: FilterOptions
  readonly #log: Logger
  #nft: ChildProcessWithoutNullStreams | undefined
  #stdout = ''
  #stderr = ''
  /// Called on every change of the owner process's output or its exit: the command in flight looks
  /// whether its acknowledgement has arrived (no polling; a hand-over waits for this).
  #onOutput: (() => void) | undefined
  #queue: Promise<void> = Promise.resolve()
  #stopped = false

  constructor (options: FilterOptions, log: Logger) {
    this.#o = options
    this.#log = log
  }

  /// Installs the base table and starts the owner process; throws CLUSTER_NETFILTER when the
  /// kernel or the nft binary will not cooperate (the caller then runs standalone).
  async start (): Promise<void> {
    try {
      await run(this.#o.nft, ['-f', '-'], renderBase(this.#o))
      await setTcpLoose(this.#log)
      await this.#spawnOwner()
    } catch (err) {
      // A missing binary (ENOENT) is the same news as a kernel that refuses: no filter here.
      throw isScanwallError(err) ? err : new ScanwallError('CLUSTER_NETFILTER', `${this.#o.nft}: ${errorMessage(err)}`)
    }
  }

  /// Called when the owner process died under us (the kernel dropped the table with it).
  onLost: (() => void) | undefined

  async #spawnOwner (): Promise<void> {
    const child = spawn(this.#o.nft, ['-i'], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.#nft = child
    raisePriority(child.pid, this.#log)
    child.stdout.on('data', (d: Buffer) => { this.#stdout += d.toString(); this.#onOutput?.() })
    child.stderr.on('data', (d: Buffer) => { this.#stderr += d.toString(); this.#onOutput?.() })
    child.on('error', () => {})
    child.on('exit', code => {
      this.#onOutput?.()
      if (this.#nft !== child) return
      this.#nft = undefined
      this.#log.error({ code }, 'nft owner process exited: this node owns no bucket until it is restarted')
      this.onLost?.()
    })
    await this.#command(renderOwnerSetup(this.#o).join('\n'))
  }

  /// Sends commands (none: only the listing) and waits for the table listing that follows them;
  /// stderr output means failure.
  async #command (commands: string | undefined): Promise<string> {
    const child = this.#nft
    if (child === undefined) throw new ScanwallError('CLUSTER_NETFILTER', 'nft owner process is not running')
    this.#stdout = ''
    this.#stderr = ''
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new ScanwallError('CLUSTER_NETFILTER', `nft did not answer: ${this.#stderr.trim()}`)), ackTimeoutMs)
        this.#onOutput = () => {
          if (this.#nft !== child || child.exitCode !== null || child.signalCode !== null) reject(new ScanwallError('CLUSTER_NETFILTER', `nft exited: ${this.#stderr.trim()}`))
          else if (/\n}\n?$/.test(this.#stdout)) resolve()
          else return
          clearTimeout(timer)
        }
        child.stdin.write(`${commands === undefined ? '' : `${commands}\n`}list table ip ${ownerTable(this.#o)}\n`)
      })
    } finally {
      this.#onOutput = undefined
    }
    if (this.#stderr.trim() !== '') throw new ScanwallError('CLUSTER_NETFILTER', this.#stderr.trim())
    return this.#stdout
  }

  async apply (owned: readonly number[]): Promise<void> {
    const step = this.#queue.then(async () => {
      if (this.#nft === undefined && !this.#stopped) await this.#spawnOwner()
      await this.#command(renderOwned(this.#o, owned))
    })
    this.#queue = step.catch(() => {})
    await step
  }

  /// The owner table's bare resets and their buckets (reset-guard.ts), read from the listing the
  /// owner session prints anyway: no extra process. Queued behind (never between) filter changes.
  async resetSample (): Promise<ResetSample> {
    const step = this.#queue.then(async () => {
      if (this.#nft === undefined) throw new ScanwallError('CLUSTER_NETFILTER', 'nft owner process is not running')
      return parseResetListing(await this.#command(undefined))
    })
    this.#queue = step.then(() => {}, () => {})
    return await step
  }

  /// Clean exit: delete only our own owner table (the base tables stay and keep dropping).
  async stop (): Promise<void> {
    this.#stopped = true
    const child = this.#nft
    if (child === undefined) return
    this.#nft = undefined
    const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
    child.stdin.end(`delete table ip ${ownerTable(this.#o)}\n`)
    await exited
  }
}
