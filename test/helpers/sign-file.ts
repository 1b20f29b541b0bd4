/// A test code-signing PKI for ClamAV 1.5 `.sign` files, made with Debian's openssl: a root, an
/// intermediate and a code-signing leaf; `sign(data)` writes what ClamAV's sigtool writes, a
/// `#clamsign-1.0` file with one `220::pkcs7-pem:<base64>` line holding a detached PKCS#7
/// (binary, SHA-256, the intermediate included). The tests trust the root through
/// updates.trustedCertificates; Cisco's root stays the default.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestSigner {
  readonly rootPem: string
  readonly rootFile: string
  sign: (data: Uint8Array) => Uint8Array
  close: () => void
}

const openssl = (dir: string, args: string[], input?: Uint8Array): Buffer => execFileSync('openssl', args, { cwd: dir, input, stdio: ['pipe', 'pipe', 'pipe'] })

export function testSigner (name = 'Scanwall Test'): TestSigner {
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-pki-'))
  const req = (key: string, subject: string, extra: string[] = []): void => { openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', `/CN=${subject}`, ...extra]) }
  writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n')
  writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n')
  req('root.key', `${name} Root`, ['-x509', '-days', '3650', '-out', 'root.crt', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  req('int.key', `${name} Intermediate`, ['-out', 'int.csr'])
  openssl(dir, ['x509', '-req', '-in', 'int.csr', '-CA', 'root.crt', '-CAkey', 'root.key', '-CAcreateserial', '-days', '3650', '-extfile', 'ca.ext', '-out', 'int.crt'])
  req('leaf.key', `${name} Signer`, ['-out', 'leaf.csr'])
  openssl(dir, ['x509', '-req', '-in', 'leaf.csr', '-CA', 'int.crt', '-CAkey', 'int.key', '-CAcreateserial', '-days', '3650', '-extfile', 'leaf.ext', '-out', 'leaf.crt'])
  return {
    rootPem: readFileSync(join(dir, 'root.crt'), 'utf8'),
    rootFile: join(dir, 'root.crt'),
    sign (data: Uint8Array): Uint8Array {
      const pem = openssl(dir, ['smime', '-sign', '-binary', '-signer', 'leaf.crt', '-inkey', 'leaf.key', '-certfile', 'int.crt', '-md', 'sha256', '-outform', 'PEM'], data).toString('latin1')
      const body = pem.split('\n').filter(l => l !== '' && !l.startsWith('-----')).join('')
      return Buffer.from(`#clamsign-1.0\n220::pkcs7-pem:${body}\n`)
    },
    close () { rmSync(dir, { recursive: true, force: true }) },
  }
}
