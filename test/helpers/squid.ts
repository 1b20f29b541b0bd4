/// Runs Debian's real Squid in the foreground (-N) as an ICAP client in front of a local origin:
/// its own temp dir (owned by `proxy`, the user it drops to from root), free loopback ports, no DNS,
/// no cache, REQMOD and RESPMOD to one ICAP service with preview on and bypass=0 (a broken ICAP
/// server must show as an error, never as a silent pass).
///
/// The no-op delay pool is required on Debian 12's Squid 5.7: without it every RESPMOD body of 64 KiB
/// or more deadlocks (Squid bug 5352; see SQUID-NOTES.md: a full virgin-body pipe parks the origin read
/// and nothing but a delay pool wakes it).
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { chown, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Daemon } from './daemon.js'
import { freePort, waitForPort } from './ports.js'

const execFileAsync = promisify(execFile)

export interface SquidOptions {
  readonly dir: string
  readonly icapHost: string
  readonly icapPort: number
  readonly icapService: string
  readonly previewBytes?: number
  /// The bug 5352 delay pool (default on); off shows what a deployment without it sees.
  readonly delayPool?: boolean
  /// ICAP over TLS (icaps://): the CA that signed the server's certificate, and Squid's own client
  /// certificate and key when the server asks for one (files readable by the proxy user).
  readonly icapTls?: { readonly cafile: string, readonly cert?: string, readonly key?: string }
}

export interface Squid {
  readonly port: number
  readonly proxyUrl: string
  readonly daemon: Daemon
  readonly cacheLog: string
  readonly accessLog: string
}

const delayPool = `# Squid 5.7 bug 5352 work-around: a no-op delay pool wakes parked origin reads once a second.
delay_pools 1
delay_class 1 1
delay_parameters 1 1000000000/1000000000
delay_access 1 allow all
`

export function renderSquidConf (o: SquidOptions & { port: number }): string {
  const tls = o.icapTls === undefined
    ? ''
    : ` tls-cafile=${o.icapTls.cafile}${o.icapTls.cert === undefined ? '' : ` tls-cert=${o.icapTls.cert}`}${o.icapTls.key === undefined ? '' : ` tls-key=${o.icapTls.key}`}`
  const icap = `${o.icapTls === undefined ? 'icap' : 'icaps'}://${o.icapHost}:${o.icapPort}/${o.icapService}${tls}`
  return `# Scanwall test Squid (generated)
http_port 127.0.0.1:${o.port}
visible_hostname scanwall-test
pid_filename ${o.dir}/squid.pid
cache_log ${o.dir}/cache.log
access_log stdio:${o.dir}/access.log
logfile_rotate 0
coredump_dir ${o.dir}
netdb_filename none
cache_effective_user proxy
shutdown_lifetime 1 seconds
pinger_enable off
dns_nameservers 127.0.0.1
icp_port 0
htcp_port 0
cache deny all
cache_mem 8 MB
acl loopback src 127.0.0.0/8
acl origin_ok dst 127.0.0.0/8
http_access deny !origin_ok
http_access allow loopback
http_access deny all
${o.delayPool === false ? '' : delayPool}icap_enable on
icap_preview_enable on
icap_preview_size ${o.previewBytes ?? 1024}
icap_persistent_connections on
icap_send_client_ip on
icap_service_failure_limit -1
icap_service svc_req reqmod_precache bypass=0 ${icap}
icap_service svc_resp respmod_precache bypass=0 ${icap}
adaptation_access svc_req allow all
adaptation_access svc_resp allow all
`
}

export async function startSquid (options: SquidOptions): Promise<Squid> {
  const port = await freePort()
  const conf = join(options.dir, 'squid.conf')
  await mkdir(options.dir, { recursive: true })
  await writeFile(conf, renderSquidConf({ ...options, port }))
  const { uid, gid } = await proxyUser()
  await chown(options.dir, uid, gid)
  try {
    await execFileAsync('squid', ['-k', 'parse', '-f', conf])
  } catch (err) {
    const e = err as { stderr?: string, stdout?: string, message: string }
    throw new Error(`squid -k parse failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`)
  }
  const daemon = new Daemon('squid', 'squid', ['-N', '-f', conf], { logFile: join(options.dir, 'stdout.log') })
  const cacheLog = join(options.dir, 'cache.log')
  try {
    await waitForPort('127.0.0.1', port, 30_000, () => daemon.alive)
  } catch (err) {
    await daemon.stop(2000)
    throw new Error(`squid did not start: ${(err as Error).message}\n${daemon.tail()}`)
  }
  return { port, proxyUrl: `http://127.0.0.1:${port}`, daemon, cacheLog, accessLog: join(options.dir, 'access.log') }
}

/// Squid refuses to run as root and drops to cache_effective_user; Debian's package creates `proxy`.
async function proxyUser (): Promise<{ uid: number, gid: number }> {
  const { stdout } = await execFileAsync('getent', ['passwd', 'proxy'])
  const fields = stdout.trim().split(':')
  const uid = Number(fields[2])
  const gid = Number(fields[3])
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`cannot parse proxy user: ${stdout}`)
  return { uid, gid }
}
