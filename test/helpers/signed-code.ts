/// Active content made at test time with the real tools: a minimal PE32 program or DLL (an .ocx is
/// a DLL) written here, signed by Debian's osslsigncode; a CAB from gcab, signed by osslsigncode;
/// a JAR from the JDK's `jar`, signed by `jarsigner` with a key from `keytool`; the publisher's
/// certificate from openssl. Each object carries random bytes, so no two tests share a verdict.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const publisher = 'Scanwall Test Publisher'

function need (tool: string, pkg: string): string {
  for (const dir of ['/usr/bin', '/usr/local/bin']) if (existsSync(join(dir, tool))) return join(dir, tool)
  throw new Error(`${tool} missing: install Debian package ${pkg} (test/setup-peers.sh)`)
}

function run (tool: string, args: string[], cwd?: string): void {
  execFileSync(tool, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd === undefined ? {} : { cwd }) })
}

/// A PE32 image with one .text section of 512 bytes (a `ret` then random bytes): what Windows and
/// osslsigncode accept as a program (or, with `dll`, a DLL).
export function minimalPe (dll = false): Buffer {
  const b = Buffer.alloc(0x400)
  b.write('MZ', 0, 'latin1')
  b.writeUInt32LE(0x40, 0x3c)
  b.write('PE\0\0', 0x40, 'latin1')
  b.writeUInt16LE(0x14c, 0x44) // i386
  b.writeUInt16LE(1, 0x46)
  b.writeUInt16LE(224, 0x54)
  b.writeUInt16LE(0x0102 | (dll ? 0x2000 : 0), 0x56)
  const o = 0x58
  b.writeUInt16LE(0x10b, o)
  b.writeUInt32LE(0x200, o + 4) // SizeOfCode
  b.writeUInt32LE(0x1000, o + 16) // AddressOfEntryPoint
  b.writeUInt32LE(0x1000, o + 20) // BaseOfCode
  b.writeUInt32LE(0x2000, o + 24) // BaseOfData
  b.writeUInt32LE(dll ? 0x10000000 : 0x400000, o + 28)
  b.writeUInt32LE(0x1000, o + 32)
  b.writeUInt32LE(0x200, o + 36)
  b.writeUInt16LE(4, o + 40)
  b.writeUInt16LE(4, o + 48)
  b.writeUInt32LE(0x2000, o + 56) // SizeOfImage
  b.writeUInt32LE(0x200, o + 60) // SizeOfHeaders
  b.writeUInt16LE(2, o + 68) // GUI
  b.writeUInt32LE(0x100000, o + 72)
  b.writeUInt32LE(0x1000, o + 76)
  b.writeUInt32LE(0x100000, o + 80)
  b.writeUInt32LE(0x1000, o + 84)
  b.writeUInt32LE(16, o + 92) // NumberOfRvaAndSizes
  const s = o + 224
  b.write('.text', s, 'latin1')
  b.writeUInt32LE(0x200, s + 8)
  b.writeUInt32LE(0x1000, s + 12)
  b.writeUInt32LE(0x200, s + 16)
  b.writeUInt32LE(0x200, s + 20)
  b.writeUInt32LE(0x60000020, s + 36)
  b[0x200] = 0xc3
  randomBytes(256).copy(b, 0x210)
  return b
}

export interface Publisher { readonly cert: string, readonly key: string, readonly keystore: string }

/// A self-signed code-signing certificate for `name`, as PEM files and a PKCS#12 keystore (jarsigner).
export function makePublisher (dir: string, name = publisher): Publisher {
  mkdirSync(dir, { recursive: true })
  const openssl = need('openssl', 'openssl')
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  run(openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}/O=Scanwall Tests`])
  const keystore = join(dir, 'publisher.p12')
  run(need('keytool', 'default-jdk-headless'), ['-genkeypair', '-alias', 'publisher', '-keyalg', 'RSA', '-keysize', '2048', '-keystore', keystore, '-storetype', 'PKCS12',
    '-storepass', 'scanwall', '-keypass', 'scanwall', '-dname', `CN=${name}, O=Scanwall Tests`, '-validity', '2'])
  return { cert, key, keystore }
}

/// osslsigncode signs a PE or CAB in place (written to `out`).
export function authenticodeSign (input: string, out: string, p: Publisher): void {
  run(need('osslsigncode', 'osslsigncode'), ['sign', '-certs', p.cert, '-key', p.key, '-n', 'Scanwall test', '-in', input, '-out', out])
}

export function makeCab (dir: string, name: string): string {
  mkdirSync(join(dir, `${name}.d`), { recursive: true })
  writeFileSync(join(dir, `${name}.d`, 'readme.txt'), `a cabinet ${randomBytes(8).toString('hex')}\n`)
  const out = join(dir, `${name}.cab`)
  run(need('gcab', 'gcab'), ['-c', '-n', out, 'readme.txt'], join(dir, `${name}.d`))
  return out
}

/// A JAR with a manifest and one class-named entry (the bytes of a class header), optionally signed.
export function makeJar (dir: string, name: string, signer?: Publisher): string {
  const src = join(dir, `${name}.d`)
  mkdirSync(src, { recursive: true })
  writeFileSync(join(src, 'Applet.class'), Buffer.concat([Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]), randomBytes(64)]))
  const out = join(dir, `${name}.jar`)
  run(need('jar', 'default-jdk-headless'), ['cf', out, '-C', src, 'Applet.class'])
  if (signer !== undefined) run(need('jarsigner', 'default-jdk-headless'), ['-keystore', signer.keystore, '-storepass', 'scanwall', '-storetype', 'PKCS12', out, 'publisher'])
  return out
}

/// Writes `bytes` and returns the path (for the tools above).
export function writeTo (dir: string, name: string, bytes: Uint8Array): string {
  const path = join(dir, name)
  writeFileSync(path, bytes)
  return path
}

export const read = (path: string): Buffer => readFileSync(path)
