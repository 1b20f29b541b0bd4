/// The cluster test bed: network namespaces on this machine. A bridge in its own namespace; three
/// node namespaces that all hold the cluster's virtual IPs behind their own management address; one
/// client namespace. Addresses are 10.213.0.0/24 and exist only inside these namespaces; nothing is
/// routed anywhere else. Names carry the test process id and a tag per bed, so stale beds of dead
/// runs can be found and removed.
/// Two ways to make every node see every frame for the cluster:
/// - hub (the default): every node's eth0 carries the same unicast MAC, and the bridge floods it
///   (ageing_time 0, so it never learns where that MAC lives);
/// - multicast: every node keeps its own unicast MAC, the bridge learns as a switch does, and the
///   cluster MAC is a multicast MAC (flooded) that the nodes accept (`ip maddress add`) and that the
///   nodes' ARP replies for the virtual IP carry (Scanwall's arp table).
/// Each bed may run several cluster instances (split per-service clusters), each its own VIP, ICAP
/// port and heartbeat port.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtempSync, writeFileSync, rmSync, openSync, closeSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const exec = promisify(execFile)

export const vip = '10.213.0.100'
/// Node i's address on the second heartbeat bridge (BedOptions.ring).
export const ringIp = (i: number): string => `10.214.0.${11 + i}`
export const clientIp = '10.213.0.50'
/// Hub mode: the unicast MAC every node carries. Multicast mode: a multicast MAC (group bit set, in
/// the IPv4 multicast range as Windows NLB's IGMP mode and most appliances use).
export const hubMac = '02:53:57:00:00:64'
export const multicastMac = '01:00:5e:7f:53:64'
export const icapPort = 1344
export const beatPort = 5405
export const key = 'scanwall-cluster-test-key-0123456789'
export const seed = 0x5ca11
export const buckets = 256
/// Each node's SNMP agent listens on 127.0.0.1 inside its own namespace, private to it: one port fits all.
export const snmpPort = 1161
export const snmpUser = { name: 'clustermon', authProtocol: 'sha256', authKey: 'cluster-monitor-auth', privProtocol: 'aes', privKey: 'cluster-monitor-priv' }

/// One cluster instance of the bed: its VIP, the ICAP port clients use on it, its heartbeat port.
export interface BedInstance { readonly name: string, readonly vip: string, readonly port: number, readonly beatPort: number }

export const defaultInstance: BedInstance = { name: 'default', vip, port: icapPort, beatPort }

export interface BedOptions {
  /// One letter or digit telling this bed's namespaces from another bed's of the same test process.
  readonly tag: string
  readonly mode: 'hub' | 'multicast'
  readonly instances: readonly BedInstance[]
  /// A second bridge for a second heartbeat path (`ring1`): every node gets eth1 on 10.214.0.0/24.
  readonly ring: boolean
  /// Every node sends its SNMP notifications (v2c, community `trapCommunity`) to 127.0.0.1:trapPort
  /// in its own namespace, where a test may run snmptrapd.
  readonly traps: boolean
}

export const trapPort = 1162
export const trapCommunity = 'swbed'

export async function sh (cmd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec(cmd, args, { maxBuffer: 64 * 1024 * 1024 })
  return stdout
}

export async function inNs (ns: string, ...args: string[]): Promise<string> {
  return await sh('ip', 'netns', 'exec', ns, ...args)
}

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

/// Removes namespaces (and their processes) and bed directories left by runs whose test process is gone.
export async function cleanStale (): Promise<string[]> {
  const removed: string[] = []
  for (const name of readdirSync(tmpdir())) {
    const m = /^scanwall-cluster-(\d+)-/.exec(name)
    if (m === null || alive(Number(m[1]))) continue
    rmSync(join(tmpdir(), name), { recursive: true, force: true })
    removed.push(name)
  }
  for (const line of (await sh('ip', 'netns', 'list')).split('\n')) {
    const m = /^(swc(\d+)[a-z0-9]?-\w+)/.exec(line)
    if (m === null || alive(Number(m[2]))) continue
    await killNsPids(m[1] ?? '')
    await sh('ip', 'netns', 'del', m[1] ?? '').catch(() => '')
    removed.push(m[1] ?? '')
  }
  return removed
}

async function killNsPids (ns: string): Promise<void> {
  const pids = (await sh('ip', 'netns', 'pids', ns).catch(() => '')).split('\n').filter(Boolean).map(Number)
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL') } catch {} }
}

export interface NodeProc {
  readonly name: string
  readonly ns: string
  readonly ip: string
  readonly config: string
  readonly controlSocket: string
  readonly log: string
  proc: ChildProcess | undefined
}

const setName = (i: BedInstance): string => `served_${i.name}`

export class TestBed {
  readonly prefix: string
  readonly dir = mkdtempSync(join(tmpdir(), `scanwall-cluster-${process.pid}-`))
  readonly bridgeNs: string
  readonly clientNs: string
  readonly nodes: NodeProc[]
  readonly namespaces: string[]
  readonly extraChildren = new Set<ChildProcess>()
  readonly mode: 'hub' | 'multicast'
  readonly instances: readonly BedInstance[]
  readonly ring: boolean
  readonly traps: boolean
  /// The MAC clients must resolve every VIP to.
  readonly clusterMac: string

  constructor (readonly repo: string, options: Partial<BedOptions> = {}, count = 3) {
    this.prefix = `swc${process.pid}${options.tag ?? ''}`
    this.mode = options.mode ?? 'hub'
    this.instances = options.instances ?? [defaultInstance]
    this.ring = options.ring ?? false
    this.traps = options.traps ?? false
    this.clusterMac = this.mode === 'hub' ? hubMac : multicastMac
    this.bridgeNs = `${this.prefix}-br`
    this.clientNs = `${this.prefix}-cl`
    this.nodes = Array.from({ length: count }, (_, i) => {
      const name = `n${i + 1}`
      return { name, ns: `${this.prefix}-${name}`, ip: `10.213.0.${11 + i}`, config: join(this.dir, `${name}.json`), controlSocket: join(this.dir, `${name}.sock`), log: join(this.dir, `${name}.log`), proc: undefined }
    })
    this.namespaces = [this.bridgeNs, this.clientNs, ...this.nodes.map(n => n.ns)]
  }

  async build (): Promise<void> {
    for (const ns of this.namespaces) await sh('ip', 'netns', 'add', ns)
    const br = this.bridgeNs
    await inNs(br, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1')
    // Hub mode: a bridge that never learns floods every frame. Multicast mode: a learning bridge,
    // like a switch; only the multicast cluster MAC is flooded (no IGMP querier on the segment).
    const ageing = this.mode === 'hub' ? ['ageing_time', '0'] : []
    await sh('ip', '-n', br, 'link', 'add', 'br0', 'type', 'bridge', ...ageing, 'stp_state', '0')
    // br_netfilter would push bridged frames through this namespace's IP hooks; keep it out.
    await inNs(br, 'sh', '-c', 'for f in /proc/sys/net/bridge/bridge-nf-call-*; do [ -e "$f" ] && echo 0 > "$f"; done; true')
    await sh('ip', '-n', br, 'link', 'set', 'br0', 'up')
    const attach = async (ns: string, port: string, mac: string | undefined, addrs: string[]): Promise<void> => {
      await sh('ip', '-n', br, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
      await sh('ip', '-n', br, 'link', 'set', port, 'master', 'br0', 'up')
      await inNs(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1')
      if (mac !== undefined) await sh('ip', '-n', ns, 'link', 'set', 'eth0', 'address', mac)
      // The management address first, so it is primary and heartbeats leave from it.
      for (const a of addrs) await sh('ip', '-n', ns, 'addr', 'add', a, 'dev', 'eth0')
      await sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
      await sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up')
    }
    if (this.ring) {
      // A learning bridge that carries heartbeats only: the nodes' own MACs, no VIP.
      await sh('ip', '-n', br, 'link', 'add', 'br1', 'type', 'bridge', 'stp_state', '0')
      await sh('ip', '-n', br, 'link', 'set', 'br1', 'up')
      for (const [i, n] of this.nodes.entries()) {
        await sh('ip', '-n', br, 'link', 'add', `vr${i + 1}`, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', n.ns)
        await sh('ip', '-n', br, 'link', 'set', `vr${i + 1}`, 'master', 'br1', 'up')
        await sh('ip', '-n', n.ns, 'addr', 'add', `${ringIp(i)}/24`, 'dev', 'eth1')
        await sh('ip', '-n', n.ns, 'link', 'set', 'eth1', 'up')
      }
    }
    await attach(this.clientNs, 'vcl', undefined, [`${clientIp}/24`])
    for (const [i, n] of this.nodes.entries()) {
      await attach(n.ns, `vn${i + 1}`, this.mode === 'hub' ? hubMac : undefined, [`${n.ip}/24`, ...this.instances.map(inst => `${inst.vip}/24`)])
      // A real NIC filters multicast MACs it was not told to accept (a veth does not, but say it anyway).
      if (this.mode === 'multicast') await sh('ip', '-n', n.ns, 'maddress', 'add', multicastMac, 'dev', 'eth0')
      await inNs(n.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=0', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.eth0.arp_announce=2')
      // Kernel truth for the test: per instance, the client ports each node accepted (after the base drop).
      const rules = this.instances.map(inst => `add set ip swtest ${setName(inst)} { type inet_service; size 65535; flags dynamic; }; ` +
        `add rule ip swtest in ip daddr ${inst.vip} tcp dport ${inst.port} ct state new add @${setName(inst)} { tcp sport }`)
      await inNs(n.ns, 'nft', `add table ip swtest; add chain ip swtest in { type filter hook input priority 10; }; ${rules.join('; ')}`)
    }
  }

  /// `top`: node-wide keys a suite adds (signatures, updates, …), merged over the defaults.
  writeConfigs (health: (n: NodeProc) => unknown, extra: (n: NodeProc, inst: BedInstance) => Record<string, unknown> = () => ({}), top: (n: NodeProc) => Record<string, unknown> = () => ({})): void {
    for (const n of this.nodes) {
      writeFileSync(n.config, JSON.stringify({
        ...top(n),
        node: { id: n.name },
        log: { level: 'info' },
        icap: { host: '0.0.0.0', port: this.instances[0]?.port ?? icapPort },
        scan: { workers: 1, spoolDir: join(this.dir, `${n.name}-spool`) },
        stats: { path: join(this.dir, `${n.name}-records.sqlite`) },
        snmp: { enabled: true, host: '127.0.0.1', port: snmpPort, users: [snmpUser], ...(this.traps ? { trapTargets: [{ host: '127.0.0.1', port: trapPort, version: 'v2c', community: trapCommunity }] } : {}) },
        cluster: {
          enabled: true,
          key,
          controlSocket: n.controlSocket,
          instances: this.instances.map(inst => ({
            name: inst.name,
            vip: inst.vip,
            ports: [inst.port],
            bind: `${n.ip}:${inst.beatPort}`,
            peers: this.nodes.filter(p => p !== n).map(p => `${p.ip}:${inst.beatPort}`),
            buckets,
            seed,
            loadWeighting: false,
            drainTimeoutMs: 20_000,
            health: health(n),
            ...(this.mode === 'multicast' ? { mode: 'multicast', clusterMac: multicastMac } : {}),
            ...extra(n, inst),
          })),
        },
      }, null, 2))
    }
  }

  start (n: NodeProc): void {
    // Straight to a file: a log pipe read by this (busy) test process would block the node's
    // synchronous logger, and a stalled node misses heartbeats.
    const out = openSync(n.log, 'a')
    // The machine is shared (other suites, builds): a little priority keeps 100 ms heartbeats on
    // time, as a production node would give its cluster agent.
    const proc = spawn('ip', ['netns', 'exec', n.ns, 'nice', '-n', '-10', process.execPath, join(this.repo, 'dist/src/cli/main.js'), 'start', '--config', n.config], { stdio: ['ignore', out, out] })
    closeSync(out)
    n.proc = proc
  }

  /// Client ports node `n` accepted so far on instance `inst` (from its swtest set).
  async served (n: NodeProc, inst: BedInstance = this.instances[0] ?? defaultInstance): Promise<Set<number>> {
    const json = JSON.parse(await inNs(n.ns, 'nft', '-j', 'list', 'set', 'ip', 'swtest', setName(inst))) as { nftables: Array<{ set?: { elem?: number[] } }> }
    const set = json.nftables.find(x => x.set !== undefined)?.set
    return new Set(set?.elem ?? [])
  }

  async resetServed (): Promise<void> {
    for (const n of this.nodes) for (const inst of this.instances) await inNs(n.ns, 'nft', 'flush', 'set', 'ip', 'swtest', setName(inst)).catch(() => '')
  }

  async established (n: NodeProc, inst: BedInstance = this.instances[0] ?? defaultInstance): Promise<number> {
    const out = await inNs(n.ns, 'ss', '-Htn', 'state', 'established', `( src ${inst.vip} and sport = :${inst.port} )`)
    return out.split('\n').filter(Boolean).length
  }

  /// The client's neighbour entry for `address`: its MAC and state, e.g. ["01:00:5e:…", "REACHABLE"].
  async neighbour (address: string): Promise<{ mac: string, state: string } | undefined> {
    const line = (await sh('ip', '-n', this.clientNs, 'neigh', 'show', address, 'dev', 'eth0')).trim()
    const m = /lladdr (\S+) .*?(\w+)$/.exec(line)
    return m === null ? undefined : { mac: m[1] ?? '', state: m[2] ?? '' }
  }

  spawnIn (ns: string, ...args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.extraChildren.add(child)
    child.on('exit', () => this.extraChildren.delete(child))
    return child
  }

  async destroy (): Promise<void> {
    for (const child of this.extraChildren) child.kill('SIGKILL')
    for (const n of this.nodes) n.proc?.kill('SIGKILL')
    for (const ns of this.namespaces) await killNsPids(ns)
    for (const ns of this.namespaces) await sh('ip', 'netns', 'del', ns).catch(() => '')
    rmSync(this.dir, { recursive: true, force: true })
  }
}
