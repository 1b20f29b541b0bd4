/// The abort signal a clamd connection's scans share: made on the connection's first scan, fired
/// only when the connection closes while scans are running (an AbortController and the DOMException
/// an abort creates cost more than a whole small INSTREAM). Controllers whose signal never fired
/// are handed on to later connections: creating one costs ~6 µs of CPU in Node 20 (its
/// EventTarget), a visible part of a 4 KiB INSTREAM (one connection per object), and a signal that
/// never fired and has no listener left (every scan has finished when its connection hands it back)
/// is as good as a new one.
const spareControllers: AbortController[] = []
const maxSpareControllers = 64

export class ScanAbort {
  #controller: AbortController | undefined

  get signal (): AbortSignal {
    this.#controller ??= spareControllers.pop() ?? new AbortController()
    return this.#controller.signal
  }

  /// The connection closed: running scans are aborted; an unused signal goes to a later connection.
  close (scansRunning: boolean): void {
    const controller = this.#controller
    this.#controller = undefined
    if (controller === undefined) return
    if (scansRunning) controller.abort()
    else if (!controller.signal.aborted && spareControllers.length < maxSpareControllers) spareControllers.push(controller)
  }
}
