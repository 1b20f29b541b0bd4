/// Shapes of the spam filter's and content filter's list-valued keys (spam.profiles, spam.lists,
/// spam.dnsbl, contentFilter.rules): checked here when the configuration loads, each error naming
/// its key and entry. Rule expressions are compiled at node start (src/spam/setup.ts), which names
/// the key too.

type Check = (value: unknown) => void

const fail = (key: string, i: number, why: string): never => { throw new Error(`${key}[${i}]: ${why}`) }
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const name = /^[A-Za-z0-9_.-]{1,64}$/

function list (key: string, each: (entry: Record<string, unknown>, i: number) => void): Check {
  return value => {
    if (!Array.isArray(value)) throw new Error(`${key}: must be a list`)
    value.forEach((entry: unknown, i) => {
      if (!isObject(entry)) fail(key, i, 'must be an object')
      else each(entry, i)
    })
  }
}

export const spamProfiles: Check = list('spam.profiles', (p, i) => {
  if (typeof p['name'] !== 'string' || !name.test(p['name'])) fail('spam.profiles', i, 'name: 1-64 letters, digits, _ . -')
  for (const k of ['suspectScore', 'spamScore']) if (typeof p[k] !== 'number' || !Number.isFinite(p[k])) fail('spam.profiles', i, `${k}: a number`)
  if ((p['suspectScore'] as number) > (p['spamScore'] as number)) fail('spam.profiles', i, 'suspectScore must not exceed spamScore')
  if (!['reject', 'quarantine', 'discard'].includes(String(p['spamAction']))) fail('spam.profiles', i, 'spamAction: reject, quarantine or discard')
  if (p['subjectTag'] !== undefined && typeof p['subjectTag'] !== 'string') fail('spam.profiles', i, 'subjectTag: text')
})

export const spamLists: Check = list('spam.lists', (l, i) => {
  if (typeof l['name'] !== 'string' || !name.test(l['name'])) fail('spam.lists', i, 'name: 1-64 letters, digits, _ . -')
  if (l['kind'] !== 'allow' && l['kind'] !== 'block') fail('spam.lists', i, 'kind: allow or block')
  if (typeof l['source'] !== 'string' || l['source'] === '') fail('spam.lists', i, 'source: a file path or an http(s) URL')
})

export const dnsblZones: Check = list('spam.dnsbl', (z, i) => {
  if (typeof z['zone'] !== 'string' || !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(z['zone'])) fail('spam.dnsbl', i, 'zone: a DNS zone name')
  if (typeof z['score'] !== 'number' || !Number.isFinite(z['score'])) fail('spam.dnsbl', i, 'score: a number')
})

export const contentRules: Check = list('contentFilter.rules', (r, i) => {
  if (typeof r['name'] !== 'string' || !name.test(r['name'])) fail('contentFilter.rules', i, 'name: 1-64 letters, digits, _ . -')
  if (!['log', 'archive', 'delete', 'quarantine', 'block'].includes(String(r['action']))) fail('contentFilter.rules', i, 'action: log, archive, delete, quarantine or block')
})

export const dnsServers: Check = value => {
  if (!Array.isArray(value) || value.some(v => typeof v !== 'string' || !/^[\w.:[\]-]+$/.test(v))) throw new Error('spam.dnsServers: a list of "host" or "host:port"')
}
