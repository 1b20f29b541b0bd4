/// .hdb / .hsb hash signatures: `hash:size:name[:flevel…]`, MD5, SHA1 or SHA256 by hex length;
/// size may be `*` (any size).
import type { HashAlgo, HashSignature } from './types.js'

const algoByLength = new Map<number, HashAlgo>([[32, 'md5'], [40, 'sha1'], [64, 'sha256']])

/// Parses one non-comment line; returns the reason on a malformed line.
export function parseHashLine (line: string): HashSignature | string {
  const [hash, size, name] = line.split(':')
  if (hash === undefined || size === undefined || name === undefined || name === '') return 'expected hash:size:name'
  const algo = algoByLength.get(hash.length)
  if (algo === undefined || !/^[0-9a-fA-F]+$/.test(hash)) return `'${hash}' is not an MD5, SHA1 or SHA256 hex digest`
  if (size !== '*' && !/^\d+$/.test(size)) return `size '${size}' is not a number or *`
  return { algo, hash: hash.toLowerCase(), size: size === '*' ? '*' : Number(size), name }
}
