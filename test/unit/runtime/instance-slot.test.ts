import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimInstanceSlot } from '../../../services/runtime/instance-slot.js';

describe('instance slots of a consumer group on one host', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'vigil-slots-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('gives two running instances different ids and a restarted one its old id back', () => {
    const first = claimInstanceSlot('vigil-collector', directory);
    const second = claimInstanceSlot('vigil-collector', directory);
    expect(first.instanceId).toBe(`${hostname()}-0`);
    expect(second.instanceId).toBe(`${hostname()}-1`);
    first.release();
    expect(claimInstanceSlot('vigil-collector', directory).instanceId).toBe(`${hostname()}-0`);
    second.release();
  });

  it('keeps the slots of different groups apart', () => {
    expect(claimInstanceSlot('group-a', directory).instanceId).toBe(`${hostname()}-0`);
    expect(claimInstanceSlot('group-b', directory).instanceId).toBe(`${hostname()}-0`);
  });

  it('takes over the slot of a process that died without releasing it', () => {
    const held = claimInstanceSlot('vigil-collector', directory);
    const [groupFolder] = readdirSync(directory);
    // The pid of a process that has exited: as after a SIGKILL.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(join(directory, groupFolder as string, '1.pid'), gone);
    expect(claimInstanceSlot('vigil-collector', directory).instanceId).toBe(`${hostname()}-1`);
    held.release();
  });
});
