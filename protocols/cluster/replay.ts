/// The replay rule every cluster protocol applies per sender: a boot (random id + start time) may
/// only be replaced by a later boot, and within a boot seq must grow. Heartbeats (transport.ts),
/// their copies on redundant paths (paths.ts) and witness asks (witness-server.ts) all use it.
/// Bounded by the number of senders that know the key.

export interface Stamp { readonly boot: string, readonly bootTs: number, readonly seq: number }

export class ReplayWindow {
  readonly #newest = new Map<string, Stamp>()

  /// True, and remembered, when `stamp` is newer than anything seen from `sender`.
  accept (sender: string, stamp: Stamp): boolean {
    const seen = this.#newest.get(sender)
    if (seen !== undefined && (seen.boot === stamp.boot ? stamp.seq <= seen.seq : stamp.bootTs <= seen.bootTs)) return false
    this.#newest.set(sender, { boot: stamp.boot, bootTs: stamp.bootTs, seq: stamp.seq })
    return true
  }
}
