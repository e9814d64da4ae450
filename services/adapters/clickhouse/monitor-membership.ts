import type { ClickHouseClient } from '@clickhouse/client';

/**
 * The monitors sharing one ClickHouse database (`monitor_members`): each renews a lease, and the
 * members are those whose lease has not run out. Leases are written and judged in the server's
 * time (now64), so the monitors' clocks never compare with each other. Reads are FINAL through the
 * client's `final = 1`: the latest row of each instance is its lease.
 */
export class MonitorMembership {
  constructor(
    private readonly client: ClickHouseClient,
    readonly database: string,
  ) {}

  /** Renews the instance's lease for `leaseMs` and returns the live members, the instance among them, sorted. */
  async renew(instanceId: string, leaseMs: number): Promise<string[]> {
    await this.client.command({
      query: `INSERT INTO ${this.database}.monitor_members (instance_id, updated_at, lease_until)
              SELECT {instance:String}, now64(3, 'UTC'), now64(3, 'UTC') + toIntervalMillisecond({lease:UInt32})`,
      query_params: { instance: instanceId, lease: leaseMs },
    });
    const rows = await (
      await this.client.query({
        query: `SELECT instance_id FROM ${this.database}.monitor_members WHERE lease_until > now64(3, 'UTC') ORDER BY instance_id`,
        format: 'JSONEachRow',
      })
    ).json<{ instance_id: string }>();
    const members = rows.map((row) => row.instance_id);
    return members.includes(instanceId) ? members : [...members, instanceId].sort();
  }

  /** Ends the instance's lease now, so that the others take over its work at their next pass. */
  async leave(instanceId: string): Promise<void> {
    await this.client.command({
      query: `INSERT INTO ${this.database}.monitor_members (instance_id, updated_at, lease_until)
              SELECT {instance:String}, now64(3, 'UTC'), now64(3, 'UTC') - toIntervalMillisecond(1)`,
      query_params: { instance: instanceId },
    });
  }
}
