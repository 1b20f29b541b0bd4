/// The objects and configuration the policy's end-to-end suites share (c-icap-client and Squid): a
/// real ELF program (a blocked type), JARs and OCX controls unsigned and signed by the real tools, a
/// zip holding EICAR (a threat to quarantine), a deny list; three ICAP services with three profiles:
/// `strict` (type and active-content rules, a trusted domain, the deny list, threats quarantined),
/// `logonly` (every block turned into a log line) and the default one (today's behaviour).
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { eicar } from './eicar.js'
import { authenticodeSign, makeJar, makePublisher, minimalPe, writeTo } from './signed-code.js'

export interface PolicyObjects {
  readonly elf: Buffer
  readonly unsignedJar: Buffer
  readonly signedJar: Buffer
  readonly unsignedOcx: Buffer
  readonly signedOcx: Buffer
  readonly eicarZip: Buffer
  readonly denyList: string
}

export function makePolicyObjects (dir: string): PolicyObjects {
  const signer = makePublisher(join(dir, 'publisher'))
  copyFileSync('/bin/true', join(dir, 'true.elf'))
  const ocx = writeTo(dir, 'control.ocx', minimalPe(true))
  authenticodeSign(ocx, join(dir, 'signed.ocx'), signer)
  writeFileSync(join(dir, 'eicar.com'), eicar)
  writeFileSync(join(dir, 'notes.txt'), randomBytes(2000).toString('base64'))
  execFileSync('zip', ['-q', '-j', join(dir, 'sample.zip'), join(dir, 'notes.txt'), join(dir, 'eicar.com')])
  const denyList = join(dir, 'deny.txt')
  writeFileSync(denyList, '# denied hosts and URL prefixes\ndenied.test\n127.0.0.1/denied/\n')
  return {
    elf: readFileSync(join(dir, 'true.elf')),
    unsignedJar: readFileSync(makeJar(dir, 'unsigned')),
    signedJar: readFileSync(makeJar(dir, 'signed', signer)),
    unsignedOcx: readFileSync(ocx),
    signedOcx: readFileSync(join(dir, 'signed.ocx')),
    eicarZip: readFileSync(join(dir, 'sample.zip')),
    denyList,
  }
}

/// The policy part of the suites' configuration: services strict and logonly besides avscan.
export function policyConfig (objects: PolicyObjects, trusted: string): Record<string, unknown> {
  return {
    icap: { services: ['avscan', 'strict', 'logonly'] },
    policy: {
      profiles: {
        strict: {
          blockTypes: ['elf'],
          blockUnsignedJava: true,
          blockUnsignedCode: true,
          trustedDomains: [trusted],
          denyList: objects.denyList,
          onThreat: 'quarantine',
          onPolicy: 'block',
          transferPreview: 'exe,dll,ocx,jar,zip',
          transferIgnore: 'jpg,png,gif',
        },
        logonly: { blockUnsignedCode: true, onThreat: 'log', onPolicy: 'log' },
      },
      services: { strict: 'strict', logonly: 'logonly' },
    },
  }
}
