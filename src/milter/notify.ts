/// Notifications on infection (config milter.notify): a message from templates to the admin, the
/// recipients and (only when the sender is ours: the SMTP client in notify.localNetworks or
/// SASL-authenticated) the sender, sent over SMTP to the configured relay with nodemailer; the
/// content filter's rule notifications go out the same way (`send`). Never to
/// an external sender by default: a forged sender would turn every virus into backscatter. All
/// notifications share one budget per minute; past it they are dropped and counted.
import { createTransport, type Transporter } from 'nodemailer'
import type { Logger } from '../log.js'
import { errorMessage } from '../errors.js'
import { bare, type MessageRecord } from './record.js'
import { networkMatcher } from '../../config/networks.js'
import { clientAddress, inNetworks } from './skip.js'

export interface NotifyConfig {
  readonly enabled: boolean
  readonly relayHost: string
  readonly relayPort: number
  readonly from: string
  readonly admin: string
  readonly recipients: boolean
  readonly sender: boolean
  readonly localNetworks: readonly string[]
  readonly maxPerMinute: number
  readonly subject: string
  readonly text: string
}

/// `{name}` placeholders filled from the message.
export function fillTemplate (template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole)
}

export class Notifier {
  readonly #config: NotifyConfig
  readonly #log: Logger
  readonly #node: string
  readonly #transport: Transporter
  readonly #local: (address: string) => boolean
  #windowStart = 0
  #sentInWindow = 0
  dropped = 0
  sent = 0

  constructor (config: NotifyConfig, node: string, log: Logger) {
    this.#config = config
    this.#node = node
    this.#log = log
    this.#local = networkMatcher(config.localNetworks)
    this.#transport = createTransport({ host: config.relayHost, port: config.relayPort, secure: false, ignoreTLS: true })
  }

  /// Who is told about this message (empty for anything but an infection).
  targets (record: MessageRecord): string[] {
    if (record.verdict !== 'infected') return []
    const c = this.#config
    const out = new Set<string>()
    if (c.admin !== '') out.add(c.admin)
    if (c.recipients) for (const r of record.envelope.recipients) out.add(bare(r))
    const sender = bare(record.envelope.sender)
    const ours = inNetworks(this.#local, clientAddress(record.envelope)) || (record.envelope.macros.get('auth_authen') ?? '') !== ''
    if (c.sender && sender !== '' && ours) out.add(sender)
    out.delete('')
    return [...out]
  }

  notify (record: MessageRecord): void {
    const to = this.targets(record)
    if (to.length === 0) return
    const values = {
      threat: record.threat ?? 'unknown',
      sender: bare(record.envelope.sender) || '<>',
      recipients: record.envelope.recipients.map(bare).join(', '),
      queueId: record.envelope.macros.get('i') ?? '',
      action: record.action,
      client: clientAddress(record.envelope) ?? '',
      node: this.#node,
    }
    this.send(to, fillTemplate(this.#config.subject, values), fillTemplate(this.#config.text, values))
  }

  /// Sends one notification within the shared budget per minute (the content filter's rule
  /// notifications come here too: src/milter/content-step.ts).
  send (to: readonly string[], subject: string, text: string): void {
    const now = Date.now()
    if (now - this.#windowStart >= 60_000) { this.#windowStart = now; this.#sentInWindow = 0 }
    if (this.#sentInWindow >= this.#config.maxPerMinute) {
      if (this.dropped++ === 0) this.#log.warn({ maxPerMinute: this.#config.maxPerMinute }, 'milter notifications over their rate: dropped (counted)')
      return
    }
    this.#sentInWindow++
    this.#transport.sendMail({ from: this.#config.from, to: [...to], subject, text }).then(
      () => { this.sent++ },
      (err: unknown) => { this.#log.warn({ err: errorMessage(err), to }, 'milter notification not sent') })
  }

  close (): void { this.#transport.close() }
}
