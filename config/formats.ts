/// Named convict formats for the schema: whole numbers with a lower bound, listen ports, the
/// inline-match ceiling and lists of names. convict's own 'nat' accepts 0 (a queue of 0 refuses every
/// scan) and its coercion of environment strings uses parseInt ('12abc' is 12); these check the
/// range the key needs and coerce with Number, so a stray character is an error naming the key.
import convict from 'convict'

/// Largest scan.inlineMaxBytes: the size up to which the I/O thread may match an object itself.
/// The same limit as leafMaxBytes in src/engine/budget.ts (config/ imports nothing from src/; a unit
/// test keeps the two equal, and the engine caps the value again on its side).
export const inlineMaxBytesCeiling = 64 * 1024

function wholeNumber (min: number, max = Number.MAX_SAFE_INTEGER): (value: unknown) => void {
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
  return value => {
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) throw new Error(`must be an integer ${range}`)
  }
}

/// Environment values arrive as strings; anything that is not entirely a number becomes NaN, which
/// the check then refuses.
const toNumber = (text: string): number => text.trim() === '' ? Number.NaN : Number(text)

export const formats = {
  intMin0: 'int-min-0',
  intMin1: 'int-min-1',
  intMin1000: 'int-min-1000',
  listenPort: 'listen-port',
  remotePort: 'remote-port',
  inlineBytes: 'inline-bytes',
  stringList: 'string-list',
  pathList: 'path-list',
} as const

convict.addFormat({ name: formats.intMin0, validate: wholeNumber(0), coerce: toNumber })
convict.addFormat({ name: formats.intMin1, validate: wholeNumber(1), coerce: toNumber })
convict.addFormat({ name: formats.intMin1000, validate: wholeNumber(1000), coerce: toNumber })
convict.addFormat({ name: formats.listenPort, validate: wholeNumber(0, 65535), coerce: toNumber })
// A port we connect to: 0 cannot be one.
convict.addFormat({ name: formats.remotePort, validate: wholeNumber(1, 65535), coerce: toNumber })
convict.addFormat({ name: formats.inlineBytes, validate: wholeNumber(0, inlineMaxBytesCeiling), coerce: toNumber })
convict.addFormat({
  name: formats.stringList,
  validate: (value: unknown) => {
    if (!Array.isArray(value) || !value.every(s => typeof s === 'string' && s !== '')) throw new Error('must be an array of non-empty strings')
  },
  // From the environment: a comma-separated list, as convict does for Array.
  coerce: (text: string) => text.split(','),
})

/// A list of absolute paths (possibly empty), e.g. the directories clamd's local scans may read.
convict.addFormat({
  name: formats.pathList,
  validate: (value: unknown) => {
    if (!Array.isArray(value) || !value.every(s => typeof s === 'string' && s.startsWith('/'))) throw new Error('must be an array of absolute paths')
  },
  coerce: (text: string) => text === '' ? [] : text.split(','),
})

/// convict coerces a string for a `format: Boolean` key with `!== 'false'`, so SCANWALL_SNMP_ENABLED=no
/// or "enabled": "off" would switch a feature on. convict looks its converters up by the format's
/// name, and Boolean's is 'boolean': this converter takes the usual words and leaves anything else
/// a string, which the Boolean check then refuses with the key's name.
const booleanWords = new Map([['true', true], ['1', true], ['yes', true], ['on', true], ['false', false], ['0', false], ['no', false], ['off', false]])
convict.addFormat({
  name: 'boolean',
  validate: (value: unknown) => { if (typeof value !== 'boolean') throw new Error('must be of type Boolean') },
  coerce: (text: string) => booleanWords.get(text.trim().toLowerCase()) ?? text,
})
// A key whose value is a whole object of the operator's (policy.profiles): convict overlays a file's
// value onto such a key only when its format is literally named 'object'; its parse step checks it.
convict.addFormat({ name: 'object', validate: (value: unknown) => { if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('must be an object') } })
