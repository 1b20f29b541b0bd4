/// The e-mail manager's busy hours (config milter.busy): during the configured windows (local
/// time), a message larger than maxBytes is deferred with a 4xx reply before any scan (the MTA
/// retries it later, outside the window); outside them it is scanned as usual.
import type { MilterEnvelope, VerdictReply } from '../../protocols/milter/index.js'

export interface BusyConfig {
  readonly windows: readonly string[]
  readonly maxBytes: number
  /// `452 4.3.1 text`.
  readonly reply: string
}

/// Minutes after local midnight of each window's start and end (an end before the start passes midnight).
export function parseWindows (windows: readonly string[]): Array<{ from: number, to: number }> {
  return windows.map(w => {
    const [from = 0, to = 0] = w.split('-').map(t => { const [h = '0', m = '0'] = t.split(':'); return Number(h) * 60 + Number(m) })
    return { from, to }
  })
}

export function inWindows (windows: ReadonlyArray<{ from: number, to: number }>, now: Date): boolean {
  const minute = now.getHours() * 60 + now.getMinutes()
  return windows.some(w => w.from <= w.to ? minute >= w.from && minute < w.to : minute >= w.from || minute < w.to)
}

export function busyCheck (config: BusyConfig, clock: () => Date = () => new Date()): ((envelope: MilterEnvelope, size: number) => { reply: VerdictReply, reason: string } | undefined) | undefined {
  if (config.windows.length === 0) return undefined
  const windows = parseWindows(config.windows)
  const [code = '452', ...text] = config.reply.split(' ')
  const reply: VerdictReply = { kind: 'reply', code, text: text.join(' ') }
  return (_envelope, size) => size > config.maxBytes && inWindows(windows, clock()) ? { reply, reason: 'busy-hours' } : undefined
}
