/// Opens the spam store in the decision database config `stats` names: PostgreSQL when stats.url
/// is set, else the SQLite file at stats.path (the same choice as src/records/open.ts).
import { ScanwallError, errorMessage } from '../../errors.js'
import type { StoreSettings } from '../../records/open.js'
import type { SpamStore } from './store.js'
import { SqliteSpamStore } from './sqlite.js'
import { PgSpamStore } from './pg.js'

export async function openSpamStore (settings: StoreSettings, { readonly = false }: { readonly readonly?: boolean } = {}): Promise<SpamStore> {
  if (settings.url !== '') {
    try {
      return await PgSpamStore.open(settings.url, { readonly })
    } catch (err) {
      throw new ScanwallError('CONFIG_INVALID', `stats.url: cannot open the PostgreSQL database: ${errorMessage(err)}`)
    }
  }
  try {
    return new SqliteSpamStore(settings.path, { readonly })
  } catch (err) {
    throw new ScanwallError('CONFIG_INVALID', `stats.path: cannot open ${settings.path}: ${errorMessage(err)}`)
  }
}
