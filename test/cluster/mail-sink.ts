/// The mail drain test's SMTP sink, run inside the client namespace (where the test's Postfix
/// relays to 127.0.0.1): test/helpers/smtp-sink.ts on the given port, printing `{"ready":true}` once
/// it listens and then one JSON line per delivered message: its X-Load-Id, the node its
/// X-Virus-Scanned header names, and its X-Virus-Status. Ends when its stdin closes.
///   node dist/test/cluster/mail-sink.js PORT
import { SmtpSink } from '../helpers/smtp-sink.js'

const sink = await SmtpSink.start(Number(process.argv[2]), '127.0.0.1')
process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
let printed = 0
const timer = setInterval(() => {
  for (; printed < sink.messages.length; printed++) {
    const data = sink.messages[printed]?.data ?? ''
    const id = /^X-Load-Id: (\d+)\r?$/m.exec(data)?.[1]
    const node = /^X-Virus-Scanned: Scanwall \S+ on (\S+)\r?$/m.exec(data)?.[1]
    const status = /^X-Virus-Status: ([^\r\n]*)/m.exec(data)?.[1]
    process.stdout.write(`${JSON.stringify({ id: id === undefined ? null : Number(id), node: node ?? null, status: status ?? null })}\n`)
  }
}, 50)
process.stdin.resume()
process.stdin.on('end', () => {
  clearInterval(timer)
  void sink.close().then(() => process.exit(0))
})
