/// 7z archives (LZMA, LZMA2, PPMd, BCJ filters, solid blocks), decoded by the 7-Zip backend (npm
/// 7z-wasm, see sevenzip.ts): no maintained pure-JS 7z decoder exists, and 7-Zip's is the reference.
/// One check by hand first: an archive with encrypted headers (7z -mhe) cannot even be listed
/// without the password, and 7-Zip-in-wasm then fails with a bare C++ exception, so the encoded
/// header is inspected for the AES coder (method id 06 F1 07 01) to report Heuristics.Encrypted.7Zip.
import type { FormatHandler, HandlerEnv, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'

const aes = Buffer.from([0x06, 0xf1, 0x07, 0x01])
const kEncodedHeader = 0x17

async function encryptedHeader (source: ByteSource): Promise<boolean> {
  const start = Buffer.from(await source.read(0, 32))
  if (start.length < 32) return false
  const offset = Number(start.readBigUInt64LE(12))
  const size = Number(start.readBigUInt64LE(20))
  if (size <= 0 || size > 1 << 20 || 32 + offset + size > source.size) return false
  const header = Buffer.from(await source.read(32 + offset, size))
  return header[0] === kEncodedHeader && header.includes(aes)
}

async function * extract (source: ByteSource, budget: ScanBudget, env: HandlerEnv): AsyncIterable<Layer> {
  if (await encryptedHeader(source)) {
    budget.report('Heuristics.Encrypted.7Zip', 'encrypted')
    return
  }
  yield * env.sevenZip.extract(source, budget, '7Zip')
}

export const sevenzHandler: FormatHandler = { type: '7z', extract }
