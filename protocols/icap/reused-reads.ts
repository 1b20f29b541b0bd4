/// Socket reads into one buffer the server reuses, instead of the fresh 64 KiB buffer Node allocates
/// (and zeroes, then copies to the read's size, then frees on another thread) for every read. On a
/// 64 KiB RESPMOD those two reads per request were ~15 % of the process's CPU (BENCHMARKS.md,
/// icap64-5). A view of the buffer is valid only while the read's callback runs: what the server
/// keeps past that (held pipelined bytes, header parts split across reads, preview bytes kept for a
/// trickle, trickled bytes waiting in the socket) it copies, and a BodyWriter gets `chunk` for the
/// length of its write() call only.
///
/// Why by hand: Node has the `onread` option (a user buffer) only for sockets it connects itself
/// (net.connect, new net.Socket), not for the ones a server accepts. This sets on an accepted socket
/// the two fields that option sets, found by their symbols' descriptions, and tells the handle to
/// read into the buffer, as the Socket constructor does; pause() and resume() then stop and start
/// the handle's reads, as for any onread socket. Where the fields or the handle method are missing
/// (another Node line), or on a TLS socket (its reads go through the TLS layer), nothing is changed
/// and false says so: the caller reads 'data' events.
import type { Socket } from 'node:net'

/// Read size: the 64 KiB libuv suggests for a read.
export const reusedReadBytes = 64 * 1024

interface UserBufferHandle { useUserBuffer?: (buffer: Uint8Array) => void }

/// Makes `socket` read into `buffer` and hand each read to `onRead` (a view valid during the call).
/// False: not possible here, nothing changed.
export function readIntoReusedBuffer (socket: Socket, buffer: Buffer, onRead: (chunk: Buffer) => void): boolean {
  if ((socket as { encrypted?: boolean }).encrypted === true) return false
  const handle = (socket as unknown as { _handle?: UserBufferHandle | null })._handle
  if (handle === null || handle === undefined || typeof handle.useUserBuffer !== 'function') return false
  const symbols = Object.getOwnPropertySymbols(socket)
  const bufferField = symbols.find(s => s.description === 'kBuffer')
  const callbackField = symbols.find(s => s.description === 'kBufferCb')
  if (bufferField === undefined || callbackField === undefined) return false
  const fields = socket as unknown as Record<symbol, unknown>
  // Both null on a socket made without onread (net.js): anything else is a layout this code does not know.
  if (fields[bufferField] !== null || fields[callbackField] !== null) return false
  fields[bufferField] = buffer
  // Returning true keeps reading; the connection pauses the socket itself when it must.
  fields[callbackField] = (bytes: number, into: Buffer): boolean => { onRead(into.subarray(0, bytes)); return true }
  handle.useUserBuffer(buffer)
  return true
}
