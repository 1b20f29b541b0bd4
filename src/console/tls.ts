/// The console's TLS certificate: the operator's (console.certFile/keyFile) or a self-signed one
/// made at first start and kept in console.stateDir (key mode 0600), so a browser that accepted it
/// once keeps accepting it. Made with the system's `openssl` (on every Debian host; a JavaScript
/// certificate maker would add a dependency for one call at first start). Written to temporary
/// names and renamed, so two nodes sharing a state directory never read half a file.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { readFile, rename, rm, mkdir } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { ScanwallError, errorMessage } from '../errors.js'

const exec = promisify(execFile)

export interface TlsMaterial { readonly cert: Buffer, readonly key: Buffer, readonly selfSigned: boolean }

export interface TlsSettings { readonly stateDir: string, readonly certFile: string, readonly keyFile: string }

async function readPair (certFile: string, keyFile: string): Promise<{ cert: Buffer, key: Buffer } | undefined> {
  try {
    return { cert: await readFile(certFile), key: await readFile(keyFile) }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/// A P-256 key and a certificate for this host name, valid ten years (it is pinned by the browser
/// that accepts it, not by a CA), written as one PEM file (key, then certificate) renamed into
/// place in one step: two nodes starting together on one state directory keep one matching pair.
async function makeSelfSigned (dir: string, file: string): Promise<void> {
  const tmp = join(dir, `.tls-${randomBytes(6).toString('hex')}`)
  const name = hostname().replace(/[^A-Za-z0-9.-]/g, '') || 'scanwall'
  try {
    // umask 077 for the child: the key is never readable by others, not even for a moment.
    await exec('sh', ['-c', 'umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -keyout "$1.key" -out "$1.crt" -subj "/CN=$2" -addext "subjectAltName=DNS:$2,DNS:localhost,IP:127.0.0.1" 2>/dev/null && cat "$1.key" "$1.crt" > "$1"', 'sh', tmp, name])
    await rename(tmp, file)
  } finally {
    for (const f of [tmp, `${tmp}.key`, `${tmp}.crt`]) await rm(f, { force: true })
  }
}

/// The key and certificate blocks of one PEM file.
function splitPem (pem: Buffer): { cert: Buffer, key: Buffer } {
  const text = pem.toString('utf8')
  const key = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/.exec(text)?.[0]
  const cert = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)?.join('\n')
  if (key === undefined || cert === undefined) throw new Error('the certificate file lacks a key or a certificate')
  return { cert: Buffer.from(cert), key: Buffer.from(key) }
}

export async function consoleTls (settings: TlsSettings): Promise<TlsMaterial> {
  if (settings.certFile !== '' || settings.keyFile !== '') {
    if (settings.certFile === '' || settings.keyFile === '') throw new ScanwallError('CONFIG_INVALID', `console.${settings.certFile === '' ? 'certFile' : 'keyFile'}: set both certFile and keyFile, or neither`)
    const pair = await readPair(settings.certFile, settings.keyFile).catch((err: unknown) => { throw new ScanwallError('CONFIG_INVALID', `console.certFile: ${errorMessage(err)}`) })
    if (pair === undefined) throw new ScanwallError('CONFIG_INVALID', `console.certFile: ${settings.certFile} or ${settings.keyFile} does not exist`)
    return { ...pair, selfSigned: false }
  }
  const file = join(settings.stateDir, 'console-tls.pem')
  try {
    await mkdir(settings.stateDir, { recursive: true, mode: 0o700 })
    let pem = await readFile(file).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return undefined; throw err })
    if (pem === undefined) {
      await makeSelfSigned(settings.stateDir, file)
      pem = await readFile(file)
    }
    return { ...splitPem(pem), selfSigned: true }
  } catch (err) {
    throw new ScanwallError('CONFIG_INVALID', `console.stateDir: cannot make or read the self-signed certificate in ${settings.stateDir}: ${errorMessage(err)}`)
  }
}
