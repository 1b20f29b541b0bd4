/// The SNMP side of a node in one piece for the composition root: the agent (UDP or AgentX) plus the
/// notification sender, started from the snmp.* configuration and closed together.
import type { ConfigTree } from '../../config/load.js'
import type { Logger } from '../../src/log.js'
import { SnmpAgent } from './agent.js'
import { TrapSender } from './traps.js'
import type { MibSources } from './mib.js'

export class SnmpService {
  readonly agent: SnmpAgent
  readonly #traps: TrapSender

  private constructor (agent: SnmpAgent, traps: TrapSender) {
    this.agent = agent
    this.#traps = traps
  }

  /// Starts the agent, then the notifications; on failure nothing is left open.
  static async start (config: ConfigTree['snmp'], sources: MibSources, log: Logger): Promise<SnmpService> {
    const agent = await SnmpAgent.start({ ...config, nodeId: sources.nodeId }, sources, log)
    try {
      const traps = new TrapSender({
        nodeId: sources.nodeId,
        enterpriseOid: config.enterpriseOid,
        engineId: agent.engineId,
        targets: config.trapTargets,
        users: config.users,
        infectionIntervalMs: config.infectionTrapIntervalMs,
        healthPollMs: config.healthPollMs,
        subagent: agent.subagent,
      }, sources, log)
      traps.start()
      return new SnmpService(agent, traps)
    } catch (err) {
      await agent.close()
      throw err
    }
  }

  async close (): Promise<void> {
    await this.#traps.close()
    await this.agent.close()
  }
}
