/// Free loopback ports for test and bench daemons. The kernel picks one (listen on port 0) and we
/// release it at once; the short window before the daemon binds it is the usual, accepted race.
import { createServer, connect } from 'node:net'

export async function freePort (host = '127.0.0.1'): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
  const address = server.address()
  await new Promise<void>(resolve => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return address.port
}

/// Resolves once a TCP connect to host:port succeeds; rejects after timeoutMs or when `alive()` says
/// the process that should listen there has died (so a crash fails fast instead of timing out).
export async function waitForPort (host: string, port: number, timeoutMs: number, alive: () => boolean = () => true): Promise<void> {
  await waitForListener({ host, port }, `${host}:${port}`, timeoutMs, alive)
}

/// The same for a unix socket (a daemon told to listen on a path).
export async function waitForUnixSocket (path: string, timeoutMs: number, alive: () => boolean = () => true): Promise<void> {
  await waitForListener({ path }, path, timeoutMs, alive)
}

async function waitForListener (target: { host: string, port: number } | { path: string }, name: string, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>(resolve => {
      const socket = connect(target)
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => { socket.destroy(); resolve(false) })
    })
    if (ok) return
    if (!alive()) throw new Error(`process meant to listen on ${name} exited`)
    if (Date.now() > deadline) throw new Error(`nothing listening on ${name} after ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}
