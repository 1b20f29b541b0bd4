/// The convict schema: the only place where configuration keys, defaults and environment names live.
/// node.ts validates it once and hands typed slices down; no other module reads the environment.
import { cpus, hostname, tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { parseInstances } from '../src/cluster/config.js'

/// The signatures bundled with the package (EICAR and friends): a node starts with them by default.
export const bundledSignaturesDir = fileURLToPath(new URL('../../signatures', import.meta.url))

const port = 'port' as const
const positiveInt = 'nat' as const

export const schema = {
  node: {
    id: { doc: 'This node\'s id: logs, block page, cluster membership', format: String, default: hostname(), env: 'SCANWALL_NODE_ID' },
  },
  log: {
    level: { doc: 'pino log level', format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', env: 'SCANWALL_LOG_LEVEL' },
  },
  icap: {
    host: { doc: 'ICAP listen address', format: String, default: '127.0.0.1', env: 'SCANWALL_ICAP_HOST' },
    port: { doc: 'ICAP listen port (0: any free port)', format: port, default: 1344, env: 'SCANWALL_ICAP_PORT' },
    maxConnections: { doc: 'Max-Connections advertised in OPTIONS and enforced (503 past it)', format: positiveInt, default: 1000, env: 'SCANWALL_ICAP_MAX_CONNECTIONS' },
    previewBytes: { doc: 'Preview size advertised in OPTIONS (Squid caps it at 64 KiB)', format: positiveInt, default: 1024 },
    transferPreview: { doc: 'Transfer-Preview file extensions ("*": all)', format: String, default: '*' },
    transferIgnore: { doc: 'Transfer-Ignore file extensions (empty: header omitted)', format: String, default: '' },
    transferComplete: { doc: 'Transfer-Complete file extensions (empty: header omitted)', format: String, default: '' },
    optionsTtlSeconds: { doc: 'Options-TTL', format: positiveInt, default: 3600 },
    allow206: { doc: 'Advertise Allow: 206 and answer clean objects with use-original-body when the client allows it', format: Boolean, default: true },
    idleTimeoutMs: { doc: 'Close a keep-alive connection idle this long', format: positiveInt, default: 60_000 },
    headerTimeoutMs: { doc: 'A request\'s ICAP and HTTP headers must arrive within this time', format: positiveInt, default: 10_000 },
    bodyStallWarnMs: { doc: 'Warn (Squid bug 5352 suspected) when a RESPMOD body stops this long', format: positiveInt, default: 5_000 },
    maxHeaderBytes: { doc: 'Limit on the ICAP header block and on each encapsulated header block', format: positiveInt, default: 65_536 },
    maxHeaderCount: { doc: 'Limit on header lines per block', format: positiveInt, default: 200 },
    services: {
      doc: 'ICAP service paths (first is the primary; the rest are aliases such as c-icap\'s names)',
      format: Array,
      default: ['avscan', 'srv_clamav', 'virus_scan'],
    },
  },
  scan: {
    workers: { doc: 'Scan worker threads', format: positiveInt, default: Math.max(1, cpus().length), env: 'SCANWALL_SCAN_WORKERS' },
    maxQueue: { doc: 'Scans waiting for a worker before new ones are refused at once', format: positiveInt, default: 256 },
    memoryLimitBytes: { doc: 'Bodies larger than this are spooled to a temp file', format: positiveInt, default: 2 * 1024 * 1024 },
    maxObjectBytes: { doc: 'Largest body accepted; larger bodies are answered per scan.oversize', format: positiveInt, default: 400 * 1024 * 1024 },
    oversize: { doc: 'What to do with a body over maxObjectBytes', format: ['block', 'allow'], default: 'block' },
    spoolDir: { doc: 'Directory for spooled bodies', format: String, default: join(tmpdir(), 'scanwall-spool'), env: 'SCANWALL_SPOOL_DIR' },
    timeoutMs: { doc: 'Time budget of one scan', format: positiveInt, default: 120_000 },
    failMode: { doc: 'Answer when the scan cannot run (queue full, worker crash, timeout): closed blocks, open allows', format: ['closed', 'open'], default: 'closed' },
    workerMaxOldGenMb: { doc: 'Heap limit of one worker thread (MiB)', format: positiveInt, default: 512 },
  },
  signatures: {
    dir: { doc: 'Directory of ClamAV-format signature files', format: String, default: bundledSignaturesDir, env: 'SCANWALL_SIGNATURES_DIR' },
  },
  blockPage: {
    template: { doc: 'HTML block page template file (empty: built-in); placeholders {{threat}} {{url}} {{node}} {{service}}', format: String, default: '' },
  },
  cluster: {
    enabled: { doc: 'Join the clusters in cluster.instances (needs root and nftables; otherwise the node runs standalone)', format: Boolean, default: false, env: 'SCANWALL_CLUSTER' },
    key: { doc: 'Shared heartbeat HMAC key (hex or text); keyFile wins when set', format: String, default: '', env: 'SCANWALL_CLUSTER_KEY', sensitive: true },
    keyFile: { doc: 'File holding the shared heartbeat HMAC key', format: String, default: '' },
    controlSocket: { doc: 'Unix socket of `scanwall node|cluster` commands (mode 0600)', format: String, default: '/run/scanwall/control.sock', env: 'SCANWALL_CONTROL_SOCKET' },
    nft: { doc: 'nft binary', format: String, default: 'nft' },
    instances: {
      doc: 'Cluster instances (split per-service clusters): [{ name, vip, ports, services, bind "ip:port", peers ["ip:port"], multicast, buckets, seed, capacity, intervalMs, missed, joinMs, loadWeighting, mode hub|multicast, clusterMac, health { tests, expression } }]',
      format: (value: unknown): void => { parseInstances(value) },
      default: [] as unknown[],
    },
  },
  shutdown: {
    graceMs: { doc: 'On SIGTERM, how long in-flight transactions may take to finish', format: positiveInt, default: 30_000 },
  },
} as const
