/// ClamAV's digital signatures, checked as libclamav checks them (dsig.c), so a CVD or cdiff signed
/// by ClamAV (or by a key an operator trusts) is told from a forged one:
/// - the signature text is a number in ClamAV's own base-64 variant (alphabet a-z A-Z 0-9 + /,
///   least significant 6-bit digit first), not RFC 4648 base64;
/// - CVD: raw RSA, the signature raised to e mod n, low 16 bytes = the payload's MD5 (no padding);
/// - cdiff (and Scanwall's signed manifests): the result is an EMSA-PSS block (SHA-256, MGF1-SHA-256,
///   32-byte salt) over the SHA-256 of the signed bytes, for a 2048-bit modulus.
/// Written here with BigInt because node:crypto cannot take a raw RSA number in this encoding, and
/// ClamAV's exponents (100001027, 100002053) are unusual; the sums are a few milliseconds.
import { createHash } from 'node:crypto'

export interface RsaPublicKey {
  /// Decimal, as libclamav writes its keys.
  readonly modulus: string
  readonly exponent: string
  /// Shown in logs: which key verified a file.
  readonly name: string
}

/// ClamAV's CVD signing key (CLI_NSTR / CLI_ESTR in libclamav/dsig.c).
export const clamavCvdKey: RsaPublicKey = {
  name: 'clamav-cvd',
  modulus: '118640995551645342603070001658453189751527774412027743746599405743243142607464144767361060640655844749760788890022283424922762488917565551002467771109669598189410434699034532232228621591089508178591428456220796841621637175567590476666928698770143328137383952820383197532047771780196576957695822641224262693037',
  exponent: '100001027',
}

/// ClamAV's cdiff signing key (PSS_NSTR / PSS_ESTR, 2048 bits).
export const clamavCdiffKey: RsaPublicKey = {
  name: 'clamav-cdiff',
  modulus: '14783905874077467090262228516557917570254599638376203532031989214105552847269687489771975792123442185817287694951949800908791527542017115600501303394778618535864845235700041590056318230102449612217458549016089313306591388590790796515819654102320725712300822356348724011232654837503241736177907784198700834440681124727060540035754699658105895050096576226753008596881698828185652424901921668758326578462003247906470982092298106789657211905488986281078346361469524484829559560886227198091995498440676639639830463593211386055065360288422394053998134458623712540683294034953818412458362198117811990006021989844180721010947',
  exponent: '100002053',
}

/// The key of the `.info` file inside CVDs (INFO_NSTR / INFO_ESTR in libclamav/readdb.c): its DSIG
/// line signs the SHA-256 of every file in the container, which is what makes a .cld rebuilt from
/// cdiffs verifiable.
export const clamavInfoKey: RsaPublicKey = {
  name: 'clamav-info',
  modulus: '11088894983048545473659556106627194923928941791795047620591658697413581043322715912172496806525381055880964520618400224333320534660299233983755341740679502866829909679955734391392668378361221524205396631090105151641270857277080310734320951653700508941717419168723942507890702904702707587451621691050754307850383399865346487203798464178537392211402786481359824461197231102895415093770394216666324484593935762408468516826633192140826667923494822045805347809932848454845886971706424360558667862775876072059437703365380209101697738577515476935085469455279994113145977994084618328482151013142393373316337519977244732747977',
  exponent: '100002049',
}

const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/'

/// ClamAV's base-64 variant → number; undefined when a character is outside the alphabet.
export function decodeSignatureNumber (text: string): bigint | undefined {
  let value = 0n
  for (let i = text.length - 1; i >= 0; i--) {
    const digit = alphabet.indexOf(text[i] ?? '')
    if (digit < 0) return undefined
    value = (value << 6n) | BigInt(digit)
  }
  return value
}

/// The inverse (sigtool's side): used by the tests and by `scanwall sigs` tooling that signs manifests.
export function encodeSignatureNumber (value: bigint): string {
  let text = ''
  for (let v = value; v > 0n; v >>= 6n) text += alphabet[Number(v & 63n)]
  return text === '' ? 'a' : text
}

export function modPow (base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n
  let b = base % modulus
  for (let e = exponent; e > 0n; e >>= 1n) {
    if ((e & 1n) === 1n) result = (result * b) % modulus
    b = (b * b) % modulus
  }
  return result
}

/// The low `length` bytes of n, most significant first (libclamav's "reverse" loop).
function lowBytes (n: bigint, length: number): Buffer {
  const out = Buffer.alloc(length)
  let v = n
  for (let i = length - 1; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n }
  return out
}

function opened (dsig: string, key: RsaPublicKey, length: number): Buffer | undefined {
  const s = decodeSignatureNumber(dsig.trim())
  if (s === undefined) return undefined
  return lowBytes(modPow(s, BigInt(key.exponent), BigInt(key.modulus)), length)
}

/// cli_versig: does dsig open to this MD5 (32 hex digits) under the key?
export function verifyMd5Signature (md5Hex: string, dsig: string, key: RsaPublicKey): boolean {
  if (!/^[0-9a-f]{32}$/i.test(md5Hex)) return false
  const plain = opened(dsig, key, 16)
  return plain !== undefined && plain.toString('hex') === md5Hex.toLowerCase()
}

const hashLength = 32
const saltLength = 32
const blockLength = 2048 / 8
const maskedLength = blockLength - hashLength - 1

function mgf1 (seed: Buffer, length: number): Buffer {
  const out: Buffer[] = []
  for (let i = 0; out.length * hashLength < length; i++) {
    const counter = Buffer.alloc(4)
    counter.writeUInt32BE(i)
    out.push(createHash('sha256').update(seed).update(counter).digest())
  }
  return Buffer.concat(out).subarray(0, length)
}

/// cli_versig2: does dsig carry a PSS block for this SHA-256 digest under the (2048-bit) key?
export function verifyPssSignature (sha256: Uint8Array, dsig: string, key: RsaPublicKey): boolean {
  const block = opened(dsig, key, blockLength)
  if (block === undefined || block[blockLength - 1] !== 0xbc) return false
  const masked = block.subarray(0, maskedLength)
  const digest = block.subarray(maskedLength, maskedLength + hashLength)
  const data = mgf1(digest, maskedLength)
  for (let i = 0; i < maskedLength; i++) data[i] = (data[i] ?? 0) ^ (masked[i] ?? 0)
  data[0] = (data[0] ?? 0) & 0x7f
  const one = data.indexOf(1)
  if (one < 0 || maskedLength - (one + 1) !== saltLength || data.subarray(0, one).some(b => b !== 0)) return false
  const salt = data.subarray(one + 1)
  const expected = createHash('sha256').update(Buffer.alloc(8)).update(sha256).update(salt).digest()
  return expected.equals(digest)
}

/// The first key under which `check` passes, or undefined.
export function firstKey (keys: readonly RsaPublicKey[], check: (key: RsaPublicKey) => boolean): RsaPublicKey | undefined {
  return keys.find(key => {
    try { return check(key) } catch { return false }
  })
}
