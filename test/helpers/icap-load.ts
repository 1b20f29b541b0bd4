/// Sustained raw ICAP load for tests: `connections` keep-alive connections, each sending one
/// RESPMOD after the other (the next once the answer is complete) until stopped, counting answers by
/// status. Answers are framed incrementally (responseEnd) so hours of traffic cost no re-parsing.
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { responseEnd } from 'icap-server-lite'

export interface LoadResult { readonly sent: number, readonly answered: number, readonly statuses: ReadonlyMap<number, number>, readonly blocked: number }

export class IcapLoad {
  readonly #sockets: Socket[] = []
  readonly #statuses = new Map<number, number>()
  #sent = 0
  #answered = 0
  #blocked = 0
  #stopped = false

  /// `request(n)`: the bytes of the n-th request (n counts across connections).
  static async start (port: number, connections: number, request: (n: number) => Buffer): Promise<IcapLoad> {
    const load = new IcapLoad()
    for (let i = 0; i < connections; i++) load.#sockets.push(await load.#run(port, request))
    return load
  }

  async #run (port: number, request: (n: number) => Buffer): Promise<Socket> {
    const socket = connect(port, '127.0.0.1')
    await once(socket, 'connect')
    socket.on('error', () => {})
    let buf: Buffer = Buffer.alloc(0)
    const send = (): void => { if (!this.#stopped && !socket.destroyed) { socket.write(request(this.#sent++)) } }
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
      for (;;) {
        const end = responseEnd(buf, 0)
        if (end < 0) break
        const head = buf.toString('latin1', 0, Math.min(end, 2048))
        const status = Number(/^ICAP\/1\.0 (\d{3})/.exec(head)?.[1] ?? 0)
        if (status === 100) { buf = buf.subarray(end); continue }
        this.#answered++
        this.#statuses.set(status, (this.#statuses.get(status) ?? 0) + 1)
        if (head.includes('X-Infection-Found')) this.#blocked++
        buf = buf.subarray(end)
        send()
      }
    })
    send()
    return socket
  }

  get result (): LoadResult { return { sent: this.#sent, answered: this.#answered, statuses: new Map(this.#statuses), blocked: this.#blocked } }

  /// Stops sending and closes the connections (answers in flight are not waited for).
  stop (): LoadResult {
    this.#stopped = true
    for (const s of this.#sockets) s.destroy()
    return this.result
  }
}
