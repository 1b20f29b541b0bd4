/// SCANWALL-MIB's quorum and heartbeat-path tables (issue #17), read from the cluster view: one row
/// per cluster instance that runs with quorum (state, action, votes, witness), and one per voting
/// peer and heartbeat path (up or down, last heard). A standalone node, or an instance without
/// quorum, has no rows. The notification swClusterPathChanged (traps.ts) uses pathStateCodes.
import snmp from 'net-snmp'
import { gauge32, dateAndTime, text, type TableDef } from './mib-values.js'
import type { PathRow, QuorumRow } from '../../src/cluster/view.js'

const T = snmp.ObjectType

export const quorumStateCodes: Readonly<Record<QuorumRow['state'], number>> = { quorate: 1, minority: 2, waiting: 3 }
export const quorumActionCodes: Readonly<Record<QuorumRow['action'], number>> = { serve: 1, hold: 2, fence: 3 }
export const witnessStateCodes: Readonly<Record<QuorumRow['witness'], number>> = { none: 1, ours: 2, others: 3, silent: 4 }
export const pathStateCodes = { up: 1, down: 2 } as const

export const quorumTable: TableDef<QuorumRow> = {
  name: 'swClusterQuorumTable',
  entry: '1.6.1',
  indexName: 'swQuorumIndex',
  rows: s => s.cluster.quorum?.() ?? [],
  columns: [
    { number: 2, name: 'swQuorumInstance', type: T.OctetString, value: q => text(q.instance) },
    { number: 3, name: 'swQuorumState', type: T.Integer, value: q => quorumStateCodes[q.state] },
    { number: 4, name: 'swQuorumAction', type: T.Integer, value: q => quorumActionCodes[q.action] },
    { number: 5, name: 'swQuorumVotes', type: T.Gauge32, value: q => gauge32(q.votes) },
    { number: 6, name: 'swQuorumExpected', type: T.Gauge32, value: q => gauge32(q.expected) },
    { number: 7, name: 'swQuorumNeeded', type: T.Gauge32, value: q => gauge32(q.needed) },
    { number: 8, name: 'swQuorumPartition', type: T.OctetString, value: q => text(q.partition.join(',')) },
    { number: 9, name: 'swQuorumReason', type: T.OctetString, value: q => text(q.reason) },
    { number: 10, name: 'swQuorumWitness', type: T.Integer, value: q => witnessStateCodes[q.witness] },
    { number: 11, name: 'swQuorumWitnessHolder', type: T.OctetString, value: q => text(q.witnessHolder.join(',')) },
  ],
}

export const pathTable: TableDef<PathRow> = {
  name: 'swClusterPathTable',
  entry: '1.7.1',
  indexName: 'swPathIndex',
  rows: s => s.cluster.paths?.() ?? [],
  columns: [
    { number: 2, name: 'swPathInstance', type: T.OctetString, value: p => text(p.instance) },
    { number: 3, name: 'swPathPeer', type: T.OctetString, value: p => text(p.peer) },
    { number: 4, name: 'swPathName', type: T.OctetString, value: p => text(p.path) },
    { number: 5, name: 'swPathState', type: T.Integer, value: p => p.up ? pathStateCodes.up : pathStateCodes.down },
    { number: 6, name: 'swPathLastHeard', type: T.OctetString, value: p => dateAndTime(p.lastHeard) },
  ],
}
