/// .hdb/.hsb hash signatures and .fp/.sfp allow-lists: `hash:size:name[:flevel…]`, MD5, SHA1 or
/// SHA256 told apart by hex length; size may be `*` (any size, ClamAV ≥ 0.98 hsb/hdb). .mdb/.msb
/// section hashes are the same fields in another order.
import type { HashAlgo, HashSignature } from './types.js'

const algoByLength = new Map<number, HashAlgo>([[32, 'md5'], [40, 'sha1'], [64, 'sha256']])
const hexRe = /^[0-9a-fA-F]+$/
const sizeRe = /^\d+$/

/// Parses one non-comment line; returns the reason on a malformed line.
export function parseHashLine (line: string, allow = false): HashSignature | string {
  const fields = line.split(':')
  const [hash = '', size = '', name = ''] = fields
  if (fields.length < 3 || name === '') return 'expected hash:size:name'
  const algo = algoByLength.get(hash.length)
  if (algo === undefined || !hexRe.test(hash)) return `'${hash.slice(0, 70)}' is not an MD5, SHA1 or SHA256 hex digest`
  if (size !== '*' && !sizeRe.test(size)) return `size '${size}' is not a number or *`
  // Sizes live in Int32 tables; objects past 2 GiB are beyond any scan limit anyway.
  if (size !== '*' && Number(size) > 0x7ffffffe) return `unsupported:size ${size} beyond 2 GiB`
  return { algo, hash: hash.toLowerCase(), size: size === '*' ? '*' : Number(size), name, allow }
}

/// .mdb/.msb PE section hashes: `size:hash:name` (the hash of one section's raw data of that size).
export function parseSectionHashLine (line: string): HashSignature | string {
  const [size = '', hash = '', ...rest] = line.split(':')
  return parseHashLine([hash, size, ...rest].join(':'))
}
