/// Helpers the cluster test runs inside its client namespace (they must live there to reach the
/// virtual address): `load` opens connections to it and reports every attempt as a JSON line;
/// `hammer` keeps one node's scan pool busy; `beat` sends one forged heartbeat. Not a product tool:
/// test/cluster only.
import { connect } from 'node:net'
import { createSocket } from 'node:dgram'
import { randomBytes, randomInt } from 'node:crypto'
import { encode } from '../../protocols/cluster/codec.js'
import { localPortBusy } from './local-port.js'

interface LoadArgs { vip: string, port: number, concurrency: number, pauseMs: number, connectTimeoutMs: number, mode: 'icap' | 'tcp' }

const options = 'OPTIONS icap://%h/avscan ICAP/1.0\r\nHost: %h\r\nEncapsulated: null-body=0\r\n\r\n'
const respBody = 'hello from the cluster test\n'
const respHttp = `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${respBody.length}\r\n\r\n`
const respmod = `RESPMOD icap://%h/avscan ICAP/1.0\r\nHost: %h\r\nAllow: 204\r\nEncapsulated: res-hdr=0, res-body=${respHttp.length}\r\n\r\n` +
  `${respHttp}${respBody.length.toString(16)}\r\n${respBody}\r\n0\r\n\r\n`

/// One attempt = one connection. icap: OPTIONS then a small RESPMOD on the same connection, each
/// must answer ICAP/1.0 2xx; tcp (a server that only accepts and closes): the server must close
/// cleanly (FIN, no reset, no timeout).
async function attempt (a: LoadArgs, localPort: number): Promise<{ ok: boolean, c: number, node?: string, err?: string }> {
  return await new Promise(resolve => {
    const socket = connect({ host: a.vip, port: a.port, localPort, localAddress: '0.0.0.0' })
    let phase = 0
    let data = ''
    const started = Date.now()
    let c = -1
    // The node that answered, as every ICAP answer names it (X-Scanwall-Node): how the bed measures shares.
    let node: string | undefined
    const done = (ok: boolean, err?: string): void => {
      clearTimeout(timer)
      // A clean close on success (FIN, not RST), so the server sees an orderly end.
      if (ok) socket.end(); else socket.destroy()
      resolve({ ok, c, ...(node === undefined ? {} : { node }), ...(err === undefined ? {} : { err }) })
    }
    let timer = setTimeout(() => done(false, 'connect-timeout'), a.connectTimeoutMs)
    socket.on('connect', () => {
      c = Date.now() - started
      clearTimeout(timer)
      timer = setTimeout(() => done(false, `timeout-phase-${phase}`), 3000)
      if (a.mode === 'icap') socket.write(options.replaceAll('%h', a.vip))
    })
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1')
      if (a.mode !== 'icap') return
      const end = data.indexOf('\r\n\r\n')
      if (end < 0) return
      if (!/^ICAP\/1\.0 2\d\d/.test(data)) return done(false, `status ${data.split('\r\n')[0] ?? ''}`)
      node ??= /\r\nX-Scanwall-Node: *([^\r]+)/i.exec(data)?.[1]
      // 204 and OPTIONS have no body; a 200 RESPMOD echoes the body chunked: wait for its last chunk.
      if (phase === 1 && /^ICAP\/1\.0 200/.test(data) && !data.endsWith('0\r\n\r\n')) return
      const closing = /\r\nConnection:\s*close/i.test(data)
      data = ''
      // A draining node says Connection: close after the current transaction: that one succeeded.
      if (phase === 0 && !closing) {
        phase = 1
        socket.write(respmod.replaceAll('%h', a.vip))
      } else {
        done(true)
      }
    })
    socket.on('end', () => done(a.mode === 'tcp' && phase === 0, a.mode === 'tcp' ? undefined : 'closed'))
    socket.on('error', (err: NodeJS.ErrnoException) => done(false, err.code ?? err.message))
  })
}

async function load (a: LoadArgs): Promise<void> {
  let next = randomInt(20000, 60000)
  const portFor = (): number => { next = next >= 60000 ? 20000 : next + 1; return next }
  const stop = new AbortController()
  process.stdin.on('end', () => stop.abort()).resume()
  const worker = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      const lport = portFor()
      const s = Date.now()
      const r = await attempt(a, lport)
      // A local port still in TIME_WAIT from an earlier run is the client's problem, not the cluster's.
      // Yield to I/O even then, so a run of busy ports cannot starve the stdin 'end' that stops us.
      if (localPortBusy(r.err)) { await new Promise(resolve => setTimeout(resolve, 1)); continue }
      process.stdout.write(`${JSON.stringify({ s, e: Date.now(), lport, ...r })}\n`)
      await new Promise(resolve => setTimeout(resolve, a.pauseMs))
    }
  }
  await Promise.all(Array.from({ length: a.concurrency }, worker))
}

/// Keeps one node's scan pool busy: `concurrency` keep-alive connections to its own address send
/// RESPMOD requests with a `megabytes` body (random bytes, so the matcher reads all of it), one
/// after the other, until stdin ends. Prints the number of transactions answered.
async function hammer (host: string, port: number, concurrency: number, megabytes: number): Promise<void> {
  // Every body unique (a 16-byte nonce chunk before the shared bytes), so each one is scanned: the
  // clean-verdict cache answers a body seen twice before without touching the pool.
  const body = randomBytes(megabytes * 1024 * 1024)
  const nonceBytes = 16
  const size = nonceBytes + body.length
  const http = `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`
  const head = Buffer.from(`RESPMOD icap://${host}/avscan ICAP/1.0\r\nHost: ${host}\r\nAllow: 204\r\nEncapsulated: res-hdr=0, res-body=${http.length}\r\n\r\n` +
    `${http}${nonceBytes.toString(16)}\r\n`)
  const bodyChunk = Buffer.from(`\r\n${body.length.toString(16)}\r\n`)
  const tail = Buffer.from('\r\n0\r\n\r\n')
  const stop = new AbortController()
  let answered = 0
  process.stdin.on('end', () => stop.abort()).resume()
  const worker = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      await new Promise<void>(resolve => {
        const socket = connect({ host, port })
        let data = ''
        const next = (): void => {
          if (stop.signal.aborted) { socket.destroy(); resolve(); return }
          data = ''
          socket.write(head)
          socket.write(randomBytes(nonceBytes))
          socket.write(bodyChunk)
          socket.write(body)
          socket.write(tail)
        }
        socket.on('connect', next)
        socket.on('data', (d: Buffer) => {
          data += d.toString('latin1')
          if (!data.includes('\r\n\r\n')) return
          answered++
          next()
        })
        socket.on('error', () => resolve())
        socket.on('close', () => resolve())
      })
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  process.stdout.write(`${answered}\n`)
}

/// A heartbeat signed with the wrong key that claims every bucket for a node that does not exist.
function beat (target: string, port: number, key: string): void {
  const socket = createSocket('udp4')
  const message = encode({
    v: 1,
    type: 'heartbeat',
    cluster: 'default',
    node: 'intruder',
    boot: 'x',
    bootTs: Date.now(),
    seq: 1,
    ts: Date.now(),
    state: 'online',
    capacity: 100,
    weight: 100,
    load: { cpu: 0, memory: 0, queue: 0, poolBusy: 0 },
    mapVersion: 0,
    owned: new Uint8Array(32).fill(255),
    signatureVersion: '',
    configVersion: '',
    healthy: true,
    failing: [],
    connections: 0,
  }, Buffer.from(key))
  let n = 0
  const timer = setInterval(() => {
    socket.send(message, port, target)
    if (++n === 10) { clearInterval(timer); setTimeout(() => socket.close(), 50) }
  }, 20)
}

const [cmd, ...rest] = process.argv.slice(2)
if (cmd === 'load') {
  const [vip = '', port = '1344', concurrency = '4', pauseMs = '10', connectTimeoutMs = '250', mode = 'tcp'] = rest
  await load({ vip, port: Number(port), concurrency: Number(concurrency), pauseMs: Number(pauseMs), connectTimeoutMs: Number(connectTimeoutMs), mode: mode === 'icap' ? 'icap' : 'tcp' })
  // Connections closed with end() toward a node that vanished (link down) would keep this process
  // alive while their FIN is retransmitted: the test is over, so exit now (stdout pipes are synchronous).
  process.exit(0)
} else if (cmd === 'hammer') {
  const [host = '', port = '1344', concurrency = '2', megabytes = '8'] = rest
  await hammer(host, Number(port), Number(concurrency), Number(megabytes))
  process.exit(0)
} else if (cmd === 'beat') {
  const [target = '', port = '5405', key = ''] = rest
  beat(target, Number(port), key)
} else {
  process.stderr.write('usage: tools.js load VIP PORT CONC PAUSE_MS TIMEOUT_MS MODE | hammer HOST PORT CONC MB | beat IP PORT KEY\n')
  process.exitCode = 2
}
