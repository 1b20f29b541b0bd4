/// Two reads of a received body outside the scan, for the policy: its true type from its first
/// bytes (the same detect() the walk uses: skipTypes lets a profile pass images unscanned), and its
/// SHA-256 (a released quarantine object is known by it; asked only for objects about to be blocked).
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { detect } from '../engine/filetype.js'
import type { BodySource } from './body.js'

const headBytes = 4096

export async function trueTypeOf (source: BodySource): Promise<string> {
  if (source.kind === 'memory') return detect(new Uint8Array(source.bytes, 0, Math.min(source.size, headBytes)))
  const handle = await open(source.path, 'r')
  try {
    const head = new Uint8Array(Math.min(source.size, headBytes))
    const { bytesRead } = await handle.read(head, 0, head.length, 0)
    return detect(head.subarray(0, bytesRead))
  } finally {
    await handle.close()
  }
}

export async function sha256Of (source: BodySource): Promise<string> {
  const hash = createHash('sha256')
  if (source.kind === 'memory') return hash.update(new Uint8Array(source.bytes, 0, source.size)).digest('hex')
  for await (const chunk of createReadStream(source.path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
