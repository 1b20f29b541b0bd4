/// The convict schema: the only place where configuration keys, defaults and environment names live.
/// node.ts validates it once and hands typed slices down; no other module reads the environment.
import { cpus, homedir, hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { snmpUsers, snmpTrapTargets, enterpriseOid, type SnmpUserConfig, type SnmpTrapTargetConfig } from './snmp.js'
import { parseInstances } from './cluster.js'
import { trustedKeys, type TrustedKeyConfig } from './updates.js'
import { formats, inlineMaxBytesCeiling } from './formats.js'
import { networkListFormat } from './networks.js'
import { busyWindows, smtpReply } from './milter.js'
import { parseProfiles, parseServiceProfiles, type ProfileSpec } from './policy.js'
import { contentRules, dnsServers, dnsblZones, spamLists, spamProfiles } from './spam.js'
import { bundledSignaturesDir, signaturesCacheDir } from './paths.js'

/// Who may connect to a listener by default: loopback and the private networks (RFC 1918, IPv6
/// unique-local and link-local). A node bound to every interface, or a cluster VIP, then still
/// refuses clients from the internet; list networks (or "0.0.0.0/0", "::/0") to change it.
export const privateNetworks = ['127.0.0.0/8', '::1', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', 'fe80::/10']

/// The bundled signatures and Scanwall's cache directory (config/paths.ts).
export { bundledSignaturesDir, signaturesCacheDir }
/// The console's users, tokens and certificate: /var/lib/scanwall/console for root, else
/// ~/.local/state/scanwall/console.
export const consoleStateDir = process.getuid?.() === 0 ? '/var/lib/scanwall/console' : join(homedir() === '' ? tmpdir() : homedir(), '.local', 'state', 'scanwall', 'console')

const port = formats.listenPort
const positiveInt = formats.intMin1
const nonNegativeInt = formats.intMin0

export const schema = {
  node: {
    id: { doc: 'This node\'s id: logs, block page, cluster membership', format: String, default: hostname(), env: 'SCANWALL_NODE_ID' },
  },
  log: {
    level: { doc: 'pino log level', format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', env: 'SCANWALL_LOG_LEVEL' },
    transactions: { doc: 'The per-transaction log line (msg "icap"): every transaction, only flagged ones (not clean, not allowed, or failed), or none (the decision database keeps the record)', format: ['all', 'flagged', 'none'], default: 'flagged', env: 'SCANWALL_LOG_TRANSACTIONS' },
  },
  icap: {
    host: { doc: 'ICAP listen address', format: String, default: '127.0.0.1', env: 'SCANWALL_ICAP_HOST' },
    port: { doc: 'ICAP listen port (0: any free port)', format: port, default: 1344, env: 'SCANWALL_ICAP_PORT' },
    maxConnections: { doc: 'Max-Connections advertised in OPTIONS and enforced (503 past it)', format: positiveInt, default: 1000, env: 'SCANWALL_ICAP_MAX_CONNECTIONS' },
    allow: { doc: 'Client networks (CIDR, IPv4 and IPv6) that may connect to the ICAP listeners (icap:// and icaps://); others are closed at accept, before a byte is read, and counted', format: networkListFormat, default: privateNetworks, env: 'SCANWALL_ICAP_ALLOW' },
    previewBytes: { doc: 'Preview size advertised in OPTIONS (Squid caps it at 64 KiB)', format: nonNegativeInt, default: 1024 },
    transferPreview: { doc: 'Transfer-Preview file extensions ("*": all)', format: String, default: '*' },
    transferIgnore: { doc: 'Transfer-Ignore file extensions (empty: header omitted)', format: String, default: '' },
    transferComplete: { doc: 'Transfer-Complete file extensions (empty: header omitted)', format: String, default: '' },
    optionsTtlSeconds: { doc: 'Options-TTL', format: positiveInt, default: 3600 },
    allow206: { doc: 'Advertise Allow: 206 and answer clean objects with use-original-body when the client allows it', format: Boolean, default: true },
    idleTimeoutMs: { doc: 'Close a keep-alive connection idle this long', format: positiveInt, default: 60_000 },
    headerTimeoutMs: { doc: 'A request\'s ICAP and HTTP headers must arrive within this time', format: positiveInt, default: 10_000 },
    bodyTimeoutMs: { doc: 'A request body that receives no bytes this long is aborted and its connection closed (c-icap\'s Timeout)', format: positiveInt, default: 300_000 },
    bodyStallWarnMs: { doc: 'Warn (Squid bug 5352 suspected) when a RESPMOD body stops this long', format: positiveInt, default: 5_000 },
    maxHeaderBytes: { doc: 'Limit on the ICAP header block and on each encapsulated header block', format: positiveInt, default: 65_536 },
    maxHeaderCount: { doc: 'Limit on header lines per block', format: positiveInt, default: 200 },
    nodeHeader: { doc: 'Name the node that answered in every ICAP answer (X-Scanwall-Node: node.id)', format: Boolean, default: true },
    reusedReads: { doc: 'Plain ICAP connections read into one buffer the server reuses (false: a fresh buffer per read, to rule the reused buffer out)', format: Boolean, default: true },
    // ICAP over TLS (icaps://, issue #12 item 6): its own port beside the plain one.
    tls: {
      enabled: { doc: 'Listen for ICAP over TLS (icaps://) on icap.tls.port, on icap.host, with the same services', format: Boolean, default: false, env: 'SCANWALL_ICAP_TLS' },
      port: { doc: 'icaps:// listen port (0: any free port)', format: port, default: 11344, env: 'SCANWALL_ICAP_TLS_PORT' },
      cert: { doc: 'PEM certificate (chain) file of the icaps:// listener', format: String, default: '', env: 'SCANWALL_ICAP_TLS_CERT' },
      key: { doc: 'PEM private key file of the icaps:// listener', format: String, default: '', sensitive: true, env: 'SCANWALL_ICAP_TLS_KEY' },
      ca: { doc: 'PEM CA file that client certificates must chain to (needed unless clientCertificates is none)', format: String, default: '', env: 'SCANWALL_ICAP_TLS_CA' },
      clientCertificates: { doc: 'Client certificates: none (not asked for), optional (one that is presented must verify), require (must be presented and verify)', format: ['none', 'optional', 'require'], default: 'none', env: 'SCANWALL_ICAP_TLS_CLIENT_CERTIFICATES' },
    },
    services: {
      doc: 'ICAP service paths (first is the primary; the rest are aliases such as c-icap\'s names)',
      format: formats.stringList,
      default: ['avscan', 'srv_clamav', 'virus_scan'],
    },
  },
  clamd: {
    host: { doc: 'clamd-protocol TCP listen address (0.0.0.0 or the VIP when a cluster instance offers clamd)', format: String, default: '127.0.0.1', env: 'SCANWALL_CLAMD_HOST' },
    port: { doc: 'clamd-protocol TCP port (clamd\'s TCPSocket); 0: no TCP listener', format: port, default: 3310, env: 'SCANWALL_CLAMD_PORT' },
    socket: { doc: 'clamd-protocol unix socket path (clamd\'s LocalSocket); empty: none', format: String, default: '', env: 'SCANWALL_CLAMD_SOCKET' },
    maxConnections: { doc: 'Open clamd connections at most; more are closed at accept', format: positiveInt, default: 200 },
    allow: { doc: 'Client networks (CIDR, IPv4 and IPv6) that may connect to the clamd TCP listener (the unix socket is guarded by its file mode); others are closed at accept and counted', format: networkListFormat, default: privateNetworks, env: 'SCANWALL_CLAMD_ALLOW' },
    streamMaxBytes: { doc: 'StreamMaxLength: bytes one INSTREAM may carry (INSTREAM size limit exceeded. ERROR past it)', format: positiveInt, default: 100 * 1024 * 1024 },
    commandReadTimeoutMs: { doc: 'CommandReadTimeout: a command must arrive within this time (COMMAND READ TIMED OUT)', format: positiveInt, default: 30_000 },
    readTimeoutMs: { doc: 'ReadTimeout: an INSTREAM that receives nothing this long is given up', format: positiveInt, default: 120_000 },
    idleTimeoutMs: { doc: 'IdleTimeout: an IDSESSION waiting this long for a command is closed', format: positiveInt, default: 30_000 },
    allowShutdown: { doc: 'Obey SHUTDOWN/QUIT (stops the whole node); off: refused with an ERROR line', format: Boolean, default: false },
    localScan: {
      enabled: { doc: 'Answer SCAN, CONTSCAN, MULTISCAN and ALLMATCHSCAN on local paths (off: COMMAND UNAVAILABLE)', format: Boolean, default: false },
      dirs: { doc: 'Directories local scans may read (paths resolved through symlinks; anything else is Access denied. ERROR)', format: formats.pathList, default: [] as string[] },
      concurrency: { doc: 'Files one MULTISCAN scans at once', format: positiveInt, default: 8 },
    },
    profile: { doc: 'The policy profile (policy.profiles) of the clamd listener: what a FOUND line is given for besides a virus', format: String, default: 'default', env: 'SCANWALL_CLAMD_PROFILE' },
  },
  // The milter listener for Postfix/Sendmail (src/milter, docs/milter.md) and its mail profile.
  milter: {
    host: { doc: 'Milter TCP listen address (Postfix smtpd_milters = inet:host:port)', format: String, default: '127.0.0.1', env: 'SCANWALL_MILTER_HOST' },
    port: { doc: 'Milter TCP port; 0: no TCP listener', format: port, default: 7357, env: 'SCANWALL_MILTER_PORT' },
    socket: { doc: 'Milter unix socket path (smtpd_milters = unix:/path); empty: none', format: String, default: '', env: 'SCANWALL_MILTER_SOCKET' },
    allow: { doc: 'Client networks (CIDR, IPv4 and IPv6) that may connect to the milter TCP listeners (the MTAs; the unix socket is guarded by its file mode); others are closed at accept and counted', format: networkListFormat, default: privateNetworks, env: 'SCANWALL_MILTER_ALLOW' },
    maxConnections: { doc: 'Open milter connections at most (one per SMTP session); more are closed at accept and the MTA applies milter_default_action', format: positiveInt, default: 500 },
    maxPacketBytes: { doc: 'Largest milter packet accepted; a larger one closes the connection', format: positiveInt, default: 1024 * 1024 },
    maxHeaders: { doc: 'Header fields per message; a message with more is over its limit (actions.limit)', format: positiveInt, default: 1000 },
    maxMessageBytes: { doc: 'Message bytes received for a scan; a larger message is over its limit (actions.limit), as is one over scan.maxObjectBytes', format: positiveInt, default: 100 * 1024 * 1024 },
    idleTimeoutMs: { doc: 'A milter connection silent this long is closed', format: positiveInt, default: 3_600_000 },
    progressMs: { doc: 'While a message is scanned, a progress packet goes to the MTA this often (inside Postfix\'s milter_content_timeout)', format: positiveInt, default: 10_000 },
    statusHeaders: { doc: 'Add X-Virus-Scanned and X-Virus-Status to messages that go on, replacing copies from outside', format: Boolean, default: true },
    nodeHeader: { doc: 'Name the node in X-Virus-Scanned ("Scanwall <version> on <node.id>")', format: Boolean, default: true },
    blockEncrypted: { doc: 'Count encrypted attachments as infected (Heuristics.Encrypted.*); off: clean', format: Boolean, default: true },
    actions: {
      clean: { doc: 'Action for a clean message: accept | reject | tempfail | discard | quarantine | headers', format: ['accept', 'reject', 'tempfail', 'discard', 'quarantine', 'headers'], default: 'accept' },
      infected: { doc: 'Action for an infected message (quarantine: ours and the MTA hold queue; headers: deliver with X-Virus-Status: infected)', format: ['accept', 'reject', 'tempfail', 'discard', 'quarantine', 'headers'], default: 'reject' },
      error: { doc: 'Action when no verdict could be had (scan error, overload)', format: ['accept', 'reject', 'tempfail', 'discard', 'quarantine', 'headers'], default: 'tempfail' },
      limit: { doc: 'Action for a message over a limit (size, header count, scan limits, scan time)', format: ['accept', 'reject', 'tempfail', 'discard', 'quarantine', 'headers'], default: 'tempfail' },
    },
    rejectReply: { doc: 'SMTP reply of the reject action ({threat}: what was found)', format: smtpReply('5'), default: '550 5.7.1 Message rejected: {threat} found' },
    tempfailReply: { doc: 'SMTP reply of the tempfail action ({threat}: the finding or error)', format: smtpReply('4'), default: '451 4.7.1 Message could not be scanned ({threat}); try again later' },
    skip: {
      networks: { doc: 'SMTP clients in these networks are not scanned (their messages are accepted as they are)', format: networkListFormat, default: [] as string[] },
      authenticated: { doc: 'Messages from SASL-authenticated senders ({auth_authen}) are not scanned', format: Boolean, default: false },
      senders: { doc: 'Envelope senders not scanned: addresses, or @domain for a whole domain', format: formats.stringList, default: [] as string[] },
    },
    busy: {
      windows: { doc: 'Busy hours, local time ("HH:MM-HH:MM"; may pass midnight): larger messages are deferred with a 4xx then', format: busyWindows, default: [] as string[] },
      maxBytes: { doc: 'During busy hours, messages larger than this are deferred', format: positiveInt, default: 10 * 1024 * 1024 },
      reply: { doc: 'SMTP reply for a message deferred in busy hours', format: smtpReply('4'), default: '452 4.3.1 Large messages are deferred during busy hours; try again later' },
    },
    notify: {
      enabled: { doc: 'Send notifications of infected messages over SMTP (to the admin, recipients, sender as configured)', format: Boolean, default: false },
      relayHost: { doc: 'SMTP relay the notifications go through', format: String, default: '127.0.0.1' },
      relayPort: { doc: 'SMTP relay port', format: formats.remotePort, default: 25 },
      from: { doc: 'Envelope and header sender of notifications', format: String, default: 'postmaster@localhost' },
      admin: { doc: 'Address told about every infected message; empty: none', format: String, default: '' },
      recipients: { doc: 'Tell the recipients of an infected message', format: Boolean, default: false },
      sender: { doc: 'Tell the sender, only when the sender is ours (client in notify.localNetworks, or SASL-authenticated): never an external, possibly forged sender', format: Boolean, default: false },
      localNetworks: { doc: 'Client networks whose senders are ours (for notify.sender)', format: networkListFormat, default: ['127.0.0.0/8', '::1'] as string[] },
      maxPerMinute: { doc: 'Notifications sent per minute at most (all together); more are dropped and counted', format: positiveInt, default: 60 },
      subject: { doc: 'Subject template ({threat} {sender} {recipients} {queueId} {action} {client} {node})', format: String, default: 'Virus found in a message: {threat}' },
      text: { doc: 'Body template (same placeholders)', format: String, default: 'Scanwall on {node} found {threat} in a message from {sender} to {recipients} (queue id {queueId}, client {client}). Action: {action}.\n' },
    },
    // Issue #14: the spam filter (incoming) and the content filter (outgoing) after the virus scan (docs/spam.md).
    filters: {
      spam: { doc: 'Run the spam filter on incoming mail (when spam.enabled)', format: Boolean, default: true },
      content: { doc: 'Run the content filter on outgoing mail (when contentFilter.enabled)', format: Boolean, default: true },
      spamProfile: { doc: 'The spam profile of this listener: "default" or a spam.profiles name', format: String, default: 'default' },
      ourNetworks: { doc: 'SMTP clients whose mail is outgoing (content filter, no spam filter); SASL-authenticated mail is outgoing too', format: networkListFormat, default: ['127.0.0.0/8', '::1'] as string[] },
      spamMaxBytes: { doc: 'Larger incoming messages are not spam-filtered (delivered on the virus verdict); the filter runs on the I/O thread (about 0.06 s of CPU per MiB)', format: positiveInt, default: 2 * 1024 * 1024 },
      contentMaxBytes: { doc: 'Larger outgoing messages are not content-filtered (delivered on the virus verdict); the filter runs on the I/O thread (about 0.18 s of CPU per MiB of text)', format: positiveInt, default: 10 * 1024 * 1024 },
      spamReply: { doc: 'SMTP reply refusing spam ({score}, {rules})', format: smtpReply('5'), default: '550 5.7.1 Spam (score {score})' },
      contentReply: { doc: 'SMTP reply refusing mail a content rule blocks ({rule})', format: smtpReply('5'), default: '550 5.7.1 Message refused by content policy ({rule})' },
    },
  },
  scan: {
    workers: { doc: 'Scan worker threads', format: positiveInt, default: Math.max(1, cpus().length), env: 'SCANWALL_SCAN_WORKERS' },
    maxQueue: { doc: 'Scans waiting for a worker before new ones are refused at once', format: positiveInt, default: 256 },
    memoryLimitBytes: { doc: 'Bodies larger than this are spooled to a temp file', format: nonNegativeInt, default: 2 * 1024 * 1024 },
    maxObjectBytes: { doc: 'Largest body scanned; a larger one is not scanned but is a limit verdict that the policy blocks or passes (scan.oversize)', format: positiveInt, default: 400 * 1024 * 1024 },
    oversize: { doc: 'What to do with a body over maxObjectBytes', format: ['block', 'allow'], default: 'block' },
    spoolDir: { doc: 'Directory for spooled bodies', format: String, default: join(tmpdir(), 'scanwall-spool'), env: 'SCANWALL_SPOOL_DIR' },
    timeoutMs: { doc: 'Time budget of one scan', format: positiveInt, default: 120_000 },
    failMode: { doc: 'Answer when the scan cannot run (queue full, worker crash, timeout): closed blocks, open allows', format: ['closed', 'open'], default: 'closed' },
    // Trickle mode of the ICAP profile (issue #12 item 2): leaks a prefix of every object it streams.
    trickle: {
      enabled: { doc: 'Trickle mode for RESPMOD downloads (leaks a prefix): answer 200 at once and stream the body while it arrives, hold back the tail until the verdict, cut the transfer on a threat (logged partially-blocked); off: the whole body is scanned first', format: Boolean, default: false, env: 'SCANWALL_SCAN_TRICKLE' },
      holdBackBytes: { doc: 'Bytes at the end of a trickled body that wait for the verdict (a cut object always lacks at least these)', format: positiveInt, default: 64 * 1024 },
      retryBlockMs: { doc: 'How long the URL of a cut download is refused at once (the block page without a fetch or scan), so a retry does not leak again', format: positiveInt, default: 300_000 },
      retryBlockEntries: { doc: 'Cut URLs remembered at most (the oldest goes first)', format: positiveInt, default: 10_000 },
    },
    alertBrokenContainers: { doc: 'Block objects whose containers are damaged past what could be read (Heuristics.Broken.*, ClamAV\'s AlertBrokenMedia); off: they pass and are logged', format: Boolean, default: false },
    workerMaxOldGenMb: { doc: 'Heap limit of one worker thread (MiB)', format: positiveInt, default: 512 },
    inlineMaxBytes: {
      doc: `Bodies up to this size with nothing to unpack are matched on the I/O thread, not handed to a worker (0: every body goes to the pool; at most ${inlineMaxBytesCeiling})`,
      format: formats.inlineBytes,
      default: 64 * 1024,
    },
    leafThread: {
      doc: 'Match those of 48 KiB and more on a thread of their own while it has fewer than two in hand (inline on the I/O thread otherwise), so the I/O thread reads sockets while another CPU matches (src/scan/leaf-lane.ts); off by default: less I/O-thread CPU per request, but a lower 64 KiB null-icap.js fraction in bench/ceiling.ts at load 3-4',
      format: Boolean,
      default: false,
    },
    // The clean-verdict cache (src/scan/verdict-cache.ts, docs/engine.md): content already scanned
    // clean under the same signatures and limits is answered without a scan.
    cache: {
      enabled: { doc: 'Answer content already scanned clean (same SHA-256, signature version and limits) from a cache; admitted on its second sighting', format: Boolean, default: true, env: 'SCANWALL_SCAN_CACHE' },
      maxEntries: { doc: 'Clean verdicts the cache holds at most (least recently used out first)', format: positiveInt, default: 65_536 },
      maxBytes: { doc: 'Memory the cache\'s entries may take at most (estimated, bytes)', format: positiveInt, default: 16 * 1024 * 1024 },
      minBytes: { doc: 'Bodies smaller than this are always scanned (matching them costs about what hashing does)', format: nonNegativeInt, default: 16 * 1024 },
      disabledServices: { doc: 'Services (ICAP service paths, clamd) whose objects are always scanned, never answered from the cache', format: formats.stringList, default: [] as string[] },
    },
    // Unpacking limits (ClamAV's names in the docs); the scan time limit (MaxScanTime) is scan.timeoutMs.
    // Exceeding one yields Heuristics.Limits.Exceeded.<Which>, which policy blocks by default.
    limits: {
      maxScanSize: { doc: 'MaxScanSize: bytes decoded from one object, all layers together', format: positiveInt, default: 400 * 1024 * 1024 },
      maxFileSize: { doc: 'MaxFileSize: bytes of any one extracted file (larger ones are skipped)', format: positiveInt, default: 100 * 1024 * 1024 },
      maxRecursion: { doc: 'MaxRecursion: container nesting depth', format: nonNegativeInt, default: 17 },
      maxFiles: { doc: 'MaxFiles: objects scanned within one object', format: positiveInt, default: 10_000 },
      maxCompressionRatio: { doc: 'Decoded/encoded ratio past which a child is a bomb (checked above ratioFloorBytes)', format: positiveInt, default: 250 },
      ratioFloorBytes: { doc: 'Children smaller than this are never judged by their compression ratio', format: nonNegativeInt, default: 16 * 1024 * 1024 },
      spoolAboveBytes: { doc: 'Extracted children larger than this are spooled to scan.spoolDir instead of held in memory', format: nonNegativeInt, default: 8 * 1024 * 1024 },
    },
  },
  signatures: {
    dir: { doc: 'Directory of ClamAV-format signature files', format: String, default: bundledSignaturesDir, env: 'SCANWALL_SIGNATURES_DIR' },
    lenient: { doc: 'Skip malformed signature lines (counted in the log) instead of refusing the DB', format: Boolean, default: false },
    cacheDir: { doc: 'Scanwall\'s own cache directory (created at start): compiled DBs (compiled/) and fetched updates (updates/); nothing is ever written into signatures.dir', format: String, default: signaturesCacheDir, env: 'SCANWALL_CACHE_DIR' },
    compiledCacheBytes: { doc: 'Bytes of compiled DBs kept in <cacheDir>/compiled, least recently used out (the current DB and the previous one are always kept)', format: nonNegativeInt, default: 1024 * 1024 * 1024, env: 'SCANWALL_COMPILED_CACHE_BYTES' },
  },
  updates: {
    mirror: { doc: 'Where signature updates come from: an http(s):// URL or a directory laid out like a ClamAV private mirror (cvdupdate: <db>.cvd, <db>-<N>.cdiff); empty: no updates (signatures.dir is watched instead)', format: String, default: '', env: 'SCANWALL_UPDATES_MIRROR' },
    layout: { doc: 'What the mirror holds: clamav (CVDs and cdiffs, as cvdupdate lays out a private mirror) or manifest (plain DB files listed in a SHA256SUMS signed by SHA256SUMS.sig)', format: ['clamav', 'manifest'], default: 'clamav' },
    intervalMs: { doc: 'Time between update checks against the mirror', format: formats.intMin1000, default: 3_600_000 },
    proxy: { doc: 'HTTP proxy for the mirror (http://host:port); empty: direct', format: String, default: '', env: 'SCANWALL_UPDATES_PROXY' },
    databases: { doc: 'The ClamAV databases to keep current', format: formats.stringList, default: ['main', 'daily'] },
    trustedKeys: { doc: 'Extra RSA public keys [{name, modulus, exponent}] (decimal) trusted for CVD, cdiff and .info signatures besides ClamAV\'s', format: trustedKeys, default: [] as TrustedKeyConfig[] },
    trustedCertificates: { doc: 'PEM files of extra root certificates trusted for ClamAV 1.5 `.sign` files (detached PKCS#7) besides Cisco\'s code-signing root', format: formats.stringList, default: [] as string[] },
    requireSignFiles: { doc: 'Refuse a CVD or cdiff that has no `.sign` file on the mirror (as ClamAV 1.5 in FIPS mode); off: the file\'s own signature suffices when no .sign is there', format: Boolean, default: false },
    watch: { doc: 'Without a mirror: reload signatures.dir when its files change (a freshclam-maintained directory), no SIGHUP needed', format: Boolean, default: true },
    debounceMs: { doc: 'Quiet time after the last change in a watched directory before reloading', format: nonNegativeInt, default: 2000 },
    timeoutMs: { doc: 'Time limit of one request to the mirror or a peer', format: positiveInt, default: 60_000 },
    maxBytes: { doc: 'Largest file accepted from the mirror', format: positiveInt, default: 1024 * 1024 * 1024 },
    peerPort: { doc: 'Cluster: TCP port on which each node serves verified update files to the others (HMAC with the cluster key); 0: peers fetch from the mirror themselves', format: port, default: 1345 },
    peerHost: { doc: 'Cluster: address the update file server listens on', format: String, default: '0.0.0.0' },
  },
  // Policy profiles (config/policy.ts, docs/policy.md): what each service scans, blocks and does.
  policy: {
    profiles: {
      doc: 'Policy profiles: { name: { blockTypes, blockUnsignedJava, blockUnsignedCode, blockMacros, trustedPublishers, trustedDomains, allowList, denyList, onThreat, onPolicy, … } }; checked and typed by config/policy.ts; a profile named default serves every service not in policy.services',
      // 'object' (convict then takes the value whole); the parse step checks every field (load.ts).
      format: 'object',
      parse: parseProfiles,
      default: {} as Record<string, ProfileSpec>,
    },
    services: {
      doc: 'ICAP service (primary name) → profile name; services not listed use the profile named default',
      format: 'object',
      parse: parseServiceProfiles,
      default: {} as Record<string, string>,
    },
    listDebounceMs: { doc: 'Quiet time after the last change of an allow or deny list file before it is read again', format: nonNegativeInt, default: 500 },
  },
  blockPage: {
    template: { doc: 'HTML block page template file (empty: built-in); placeholders {{threat}} {{url}} {{node}} {{service}}', format: String, default: '' },
  },
  snmp: {
    enabled: { doc: 'Run the SNMP agent (it opens no socket while no user and no community is configured)', format: Boolean, default: true, env: 'SCANWALL_SNMP_ENABLED' },
    host: { doc: 'SNMP agent UDP listen address', format: String, default: '127.0.0.1', env: 'SCANWALL_SNMP_HOST' },
    port: { doc: 'SNMP agent UDP port (0: any free port)', format: port, default: 1161, env: 'SCANWALL_SNMP_PORT' },
    users: { doc: 'SNMPv3 USM users, authPriv: [{name, authProtocol: sha|sha256|sha512, authKey, privProtocol: aes|aes256b|aes256r, privKey}]', format: snmpUsers, default: [] as SnmpUserConfig[], sensitive: true },
    community: { doc: 'SNMPv2c read-only community; empty: SNMPv2c off', format: String, default: '', sensitive: true, env: 'SCANWALL_SNMP_COMMUNITY' },
    enterpriseOid: { doc: 'Root of SCANWALL-MIB: 1.3.6.1.4.1.<PEN>. The default PEN 99999 is a placeholder: use your own', format: enterpriseOid, default: '1.3.6.1.4.1.99999' },
    trapTargets: { doc: 'Notification receivers: [{host, port, version: v3 (user: a name from snmp.users) | v2c (community)}]', format: snmpTrapTargets, default: [] as SnmpTrapTargetConfig[], sensitive: true },
    infectionTrapIntervalMs: { doc: 'At most one infection notification per interval; the next one counts those held back', format: nonNegativeInt, default: 1000 },
    healthPollMs: { doc: 'How often health test results are compared to send failed/recovered notifications', format: positiveInt, default: 10_000 },
    agentx: {
      enabled: { doc: 'Register as an AgentX sub-agent of the system snmpd instead of listening (snmpd does authentication)', format: Boolean, default: false },
      host: { doc: 'AgentX master address', format: String, default: '127.0.0.1' },
      port: { doc: 'AgentX master TCP port', format: formats.remotePort, default: 705 },
    },
  },
  cluster: {
    enabled: { doc: 'Join the clusters in cluster.instances (needs root and nftables; otherwise the node runs standalone)', format: Boolean, default: false, env: 'SCANWALL_CLUSTER' },
    key: { doc: 'Shared heartbeat HMAC key (hex or text); keyFile wins when set', format: String, default: '', env: 'SCANWALL_CLUSTER_KEY', sensitive: true },
    keyFile: { doc: 'File holding the shared heartbeat HMAC key', format: String, default: '' },
    controlSocket: { doc: 'Unix socket of `scanwall node|cluster` commands (mode 0600)', format: String, default: '/run/scanwall/control.sock', env: 'SCANWALL_CONTROL_SOCKET' },
    nft: { doc: 'nft binary', format: String, default: 'nft' },
    instances: {
      doc: 'Cluster instances (split per-service clusters): [{ name, vip, ports, services, bind "ip:port", peers ["ip:port"], multicast, buckets, seed, capacity, intervalMs, missed, joinMs, maxSkewMs, loadWeighting, loadSmoothingMs, weightHoldMs, mode hub|multicast, clusterMac, mark, drainTimeoutMs, health { tests, expression } }]; checked and typed by config/cluster.ts',
      format: (value: unknown): void => { parseInstances(value) },
      // After validation load.ts keeps the parsed instances (defaults filled, typed) instead of the raw objects.
      parse: parseInstances,
      default: [] as unknown[],
    },
  },
  quarantine: {
    enabled: { doc: 'Keep blocked objects (compressed, AES-256-GCM encrypted, not executable) in quarantine.dir: the decision becomes "quarantine and block"', format: Boolean, default: false, env: 'SCANWALL_QUARANTINE_ENABLED' },
    services: { doc: 'Quarantine only objects blocked on these ICAP services (primary names); empty: every service', format: formats.stringList, default: [] as string[] },
    dir: { doc: 'Quarantine directory (created 0700; files 0600 under random names)', format: String, default: '/var/lib/scanwall/quarantine', env: 'SCANWALL_QUARANTINE_DIR' },
    key: { doc: 'Encryption key of the quarantine: 64 hex digits (256 bits); keyFile wins when set', format: String, default: '', sensitive: true, env: 'SCANWALL_QUARANTINE_KEY' },
    keyFile: { doc: 'File holding the quarantine key (64 hex digits)', format: String, default: '', env: 'SCANWALL_QUARANTINE_KEY_FILE' },
    maxBytes: { doc: 'Size cap of the quarantine (stored bytes); past it the oldest objects are evicted', format: positiveInt, default: 1024 * 1024 * 1024 },
    maxObjectBytes: { doc: 'Larger blocked objects are not quarantined (the block and its event stay)', format: positiveInt, default: 100 * 1024 * 1024 },
    retentionHours: { doc: 'Quarantined objects older than this are deleted', format: positiveInt, default: 30 * 24 },
  },
  // The management console, management API and /metrics (src/console, docs/console.md, issue #16).
  console: {
    host: { doc: 'Console HTTPS listen address (0.0.0.0 in a cluster: peers fetch each other\'s data from it)', format: String, default: '127.0.0.1', env: 'SCANWALL_CONSOLE_HOST' },
    port: { doc: 'Console HTTPS port, the same on every node of a cluster; 0: no console, no management API, no /metrics', format: port, default: 8443, env: 'SCANWALL_CONSOLE_PORT' },
    stateDir: { doc: 'The console\'s own directory (created 0700): users and API tokens (users.json), the self-signed certificate made at first start', format: String, default: consoleStateDir, env: 'SCANWALL_CONSOLE_STATE_DIR' },
    certFile: { doc: 'PEM certificate (chain) of the console; empty: a self-signed one made at first start in stateDir and kept', format: String, default: '' },
    keyFile: { doc: 'PEM private key of certFile', format: String, default: '' },
    sessionTtlMs: { doc: 'A console session ends this long after login', format: formats.intMin1000, default: 8 * 3_600_000 },
    loginAttempts: { doc: 'Failed logins allowed per client address (and per user name) within loginWindowMs; more are refused with 429 until the window passes', format: positiveInt, default: 5 },
    loginWindowMs: { doc: 'The window of loginAttempts', format: formats.intMin1000, default: 60_000 },
    metricsAllow: { doc: 'Addresses that may read /metrics without a token (exact IPs, e.g. the Prometheus server)', format: formats.stringList, default: [] as string[] },
    peerTimeoutMs: { doc: 'Time limit of one request to a peer node\'s console (cluster pages)', format: positiveInt, default: 3000 },
    pollMs: { doc: 'How often the traffic chart samples the live counters (server side) and the page polls', format: formats.intMin1000, default: 2000 },
  },
  spam: {
    enabled: { doc: 'Build the spam filter (rules, Bayes from the decision database, lists, DNS blocklists) for the milter path', format: Boolean, default: false, env: 'SCANWALL_SPAM_ENABLED' },
    rulesFile: { doc: 'JSON file of extra spam rules ([{ name, score, target, words|phrase|regex|fact }]); a rule named like a shipped one replaces it', format: String, default: '' },
    suspectScore: { doc: 'Default profile: score at or above which mail is suspect (delivered with X-Spam-* headers, subject tagged)', format: Number, default: 5 },
    spamScore: { doc: 'Default profile: score at or above which mail is spam (spam.spamAction)', format: Number, default: 9 },
    spamAction: { doc: 'Default profile: what happens to spam', format: ['reject', 'quarantine', 'discard'], default: 'reject' },
    subjectTag: { doc: 'Default profile: put before a suspect mail\'s subject (empty: leave it)', format: String, default: '[SPAM?]' },
    profiles: { doc: 'More profiles: [{ name, suspectScore, spamScore, spamAction, subjectTag }]', format: spamProfiles, default: [] as unknown[] },
    lists: { doc: 'Sender/domain lists: [{ name, kind allow|block, source file path or http(s) URL (with a <url>.sha256 sidecar) }]', format: spamLists, default: [] as unknown[] },
    listRefreshSeconds: { doc: 'How often list sources are read or fetched again', format: positiveInt, default: 3600 },
    listCacheDir: { doc: 'Where the last good copy of each fetched list is kept', format: String, default: join(signaturesCacheDir, 'spam-lists') },
    dnsbl: { doc: 'DNS blocklists on the connecting address: [{ zone, score }]', format: dnsblZones, default: [] as unknown[] },
    dnsServers: { doc: 'Resolvers for the DNS blocklists ("host" or "host:port"); empty: the system\'s', format: dnsServers, default: [] as string[] },
    dnsTimeoutMs: { doc: 'One DNS blocklist query waits this long (then: not listed)', format: positiveInt, default: 2000 },
    dnsNegativeTtlSeconds: { doc: 'How long a "not listed" answer is cached', format: positiveInt, default: 300 },
    modelRefreshSeconds: { doc: 'How often the node reads the Bayes token counts other nodes changed', format: positiveInt, default: 60 },
  },
  contentFilter: {
    enabled: { doc: 'Check outgoing content (mail from our networks, REQMOD uploads) against contentFilter.rules', format: Boolean, default: false, env: 'SCANWALL_CONTENT_FILTER_ENABLED' },
    rules: { doc: 'Rules: [{ name, action log|archive|delete|quarantine|block, words | regex (+flags) | detect card|iban, minMatches, notify [sender|recipients|admin], template }]', format: contentRules, default: [] as unknown[] },
    rulesFile: { doc: 'JSON file of more rules (same shape), read at start', format: String, default: '' },
    icap: { doc: 'Also check REQMOD uploads on the ICAP services', format: Boolean, default: true },
  },
  stats: {
    enabled: { doc: 'Record decisions (events and hourly aggregates) in the decision database', format: Boolean, default: true, env: 'SCANWALL_STATS_ENABLED' },
    url: { doc: 'PostgreSQL connection URL (postgres://…) for a database shared by a cluster; empty: embedded SQLite at stats.path', format: String, default: '', sensitive: true, env: 'SCANWALL_STATS_URL' },
    path: { doc: 'SQLite database file (WAL mode) when stats.url is empty', format: String, default: '/var/lib/scanwall/records.sqlite', env: 'SCANWALL_STATS_PATH' },
    queueSize: { doc: 'Events waiting for the writer; past it new events are dropped and counted, never waited for', format: positiveInt, default: 100_000 },
    batchEvents: { doc: 'Most events written in one transaction', format: positiveInt, default: 5_000 },
    flushMs: { doc: 'Longest time an event waits before its batch is written', format: positiveInt, default: 250, env: 'SCANWALL_STATS_FLUSH_MS' },
    retentionDays: { doc: 'Events older than this are deleted', format: positiveInt, default: 90 },
    hourlyRetentionDays: { doc: 'Hourly aggregates older than this are deleted', format: positiveInt, default: 400 },
  },
  shutdown: {
    graceMs: { doc: 'On SIGTERM, how long in-flight transactions may take to finish', format: nonNegativeInt, default: 30_000 },
  },
} as const
