/// The icaps:// listener's TLS settings from config `icap.tls`: certificate, key and client CA read
/// from their files at start and checked by building a secure context once, so a missing file or a
/// key that does not match its certificate stops start-up with one line naming the key.
import { readFile } from 'node:fs/promises'
import { createSecureContext } from 'node:tls'
import type { IcapTlsOptions } from 'icap-server-lite'
import type { ConfigTree } from '../../config/load.js'
import { ScanwallError, errorMessage } from '../errors.js'

type TlsConfig = ConfigTree['icap']['tls']

async function pem (config: TlsConfig, key: 'cert' | 'key' | 'ca'): Promise<Buffer> {
  const path = config[key]
  if (path === '') throw new ScanwallError('CONFIG_INVALID', `icap.tls.${key}: a PEM file is needed when icap.tls.enabled is true${key === 'ca' ? ' and clientCertificates is not none' : ''}`)
  return await readFile(path).catch((err: unknown) => {
    throw new ScanwallError('CONFIG_INVALID', `icap.tls.${key}: cannot read ${path}: ${errorMessage(err)}`)
  })
}

/// Undefined when icaps:// is off.
export async function icapTlsOptions (config: TlsConfig): Promise<IcapTlsOptions | undefined> {
  if (!config.enabled) return undefined
  const cert = await pem(config, 'cert')
  const key = await pem(config, 'key')
  const ca = config.clientCertificates === 'none' && config.ca === '' ? undefined : await pem(config, 'ca')
  const options = { cert, key, ...(ca === undefined ? {} : { ca }) }
  try {
    createSecureContext(options)
  } catch (err) {
    throw new ScanwallError('CONFIG_INVALID', `icap.tls.cert/key: ${errorMessage(err)}`)
  }
  return { port: config.port, options, clientCertificates: config.clientCertificates }
}
