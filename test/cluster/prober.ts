/// The failover prober, run in the client namespace: every `everyMs` it opens a FRESH connection to
/// the virtual address and does one ICAP OPTIONS round trip on it. Each attempt is independent and
/// gives up on its own short connect deadline, so no attempt ever waits in the kernel's 1 s SYN
/// retransmit (which is what made the load workers' numbers a second late). One JSON line per
/// attempt: start time, outcome, local port (the test maps it to a bucket and an owner), connect ms.
/// With a bucket filter (`B:SEED:b1,b2,…`) it uses only local ports whose jhash bucket is in the
/// list, so every attempt lands on the buckets under test (a drain's moving buckets).
/// Not a product tool: test/cluster only.
import { connect } from 'node:net'
import { randomInt } from 'node:crypto'
import { kernelBucket } from '../../src/cluster/buckets.js'
import { localPortBusy } from './local-port.js'

export interface Probe {
  /// Start (Date.now()) and end of the attempt.
  readonly s: number
  readonly e: number
  readonly lport: number
  readonly ok: boolean
  /// Connect time in ms, -1 when the SYN was never answered.
  readonly c: number
  readonly err?: string
}

interface ProberArgs { vip: string, port: number, everyMs: number, connectTimeoutMs: number, answerTimeoutMs: number, ports: readonly number[] }

const options = (vip: string): string => `OPTIONS icap://${vip}/avscan ICAP/1.0\r\nHost: ${vip}\r\nEncapsulated: null-body=0\r\n\r\n`

async function attempt (a: ProberArgs, lport: number): Promise<Omit<Probe, 'e'> | undefined> {
  return await new Promise(resolve => {
    const s = Date.now()
    const socket = connect({ host: a.vip, port: a.port, localPort: lport, localAddress: '0.0.0.0' })
    let c = -1
    let data = ''
    let settled = false
    const done = (ok: boolean, err?: string): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (ok) socket.end(); else socket.destroy()
      resolve(err === undefined ? { s, lport, ok, c } : { s, lport, ok, c, err })
    }
    // A deadline that fires while the connect event already waits in the poll queue (a starved
    // prober: timers run before I/O in a loop turn) must not count as an unanswered SYN: look again
    // after the I/O phase before deciding.
    const expire = (what: string): void => { setImmediate(() => done(false, what)) }
    let timer = setTimeout(() => expire('connect-timeout'), a.connectTimeoutMs)
    socket.on('connect', () => {
      c = Date.now() - s
      clearTimeout(timer)
      timer = setTimeout(() => expire('answer-timeout'), a.answerTimeoutMs)
      socket.write(options(a.vip))
    })
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1')
      if (!data.includes('\r\n\r\n')) return
      const ok = /^ICAP\/1\.0 200/.test(data)
      done(ok, ok ? undefined : `status ${data.split('\r\n')[0] ?? ''}`)
    })
    socket.on('end', () => done(false, 'closed'))
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A local port still in TIME_WAIT: no attempt was made.
      if (localPortBusy(err.code)) { settled = true; clearTimeout(timer); socket.destroy(); resolve(undefined); return }
      done(false, err.code ?? err.message)
    })
  })
}

async function probe (a: ProberArgs): Promise<void> {
  // Ports above the load tool's range (20000-60000) and the kernel's ephemeral range, rotating.
  let index = randomInt(0, a.ports.length)
  const stop = new AbortController()
  process.stdin.on('end', () => stop.abort()).resume()
  const pending = new Set<Promise<void>>()
  const tick = (): void => {
    index = (index + 1) % a.ports.length
    const p = attempt(a, a.ports[index] ?? 61000).then(r => {
      if (r !== undefined) process.stdout.write(`${JSON.stringify({ ...r, e: Date.now() })}\n`)
    })
    pending.add(p)
    void p.finally(() => pending.delete(p))
  }
  // Each attempt starts on its own schedule, never after the previous one ends.
  const timer = setInterval(tick, a.everyMs)
  tick()
  await new Promise(resolve => stop.signal.addEventListener('abort', resolve))
  clearInterval(timer)
  await Promise.all(pending)
}

/// Local ports 61000-65000, or only those whose bucket (`B:SEED:b1,b2,…`, the client's address
/// given too) is listed.
function localPorts (client: string | undefined, filter: string | undefined): number[] {
  const all = Array.from({ length: 4001 }, (_, i) => 61000 + i)
  if (client === undefined || filter === undefined) return all
  const [count = '0', seed = '0', list = ''] = filter.split(':')
  const wanted = new Set(list.split(',').map(Number))
  return all.filter(p => wanted.has(kernelBucket(client, p, Number(count), Number(seed))))
}

const [vip = '', port = '1344', everyMs = '20', connectTimeoutMs = '300', answerTimeoutMs = '1000', client, filter] = process.argv.slice(2)
const ports = localPorts(client, filter)
if (vip === '' || ports.length === 0) {
  process.stderr.write('usage: prober.js VIP PORT EVERY_MS CONNECT_TIMEOUT_MS ANSWER_TIMEOUT_MS [CLIENT_IP B:SEED:BUCKETS]\n')
  process.exit(2)
}
await probe({ vip, port: Number(port), everyMs: Number(everyMs), connectTimeoutMs: Number(connectTimeoutMs), answerTimeoutMs: Number(answerTimeoutMs), ports })
process.exit(0)
