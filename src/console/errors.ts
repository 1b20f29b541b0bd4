/// The console's own failures with the HTTP status they are answered with (404 no such object,
/// 409 not possible on this node, 502 a peer did not answer …). Kept out of src/errors.ts: they
/// never reach ICAP or clamd, and their status is HTTP's.
export class ConsoleError extends Error {
  readonly status: number
  constructor (status: number, message: string) {
    super(message)
    this.name = 'ConsoleError'
    this.status = status
  }
}
