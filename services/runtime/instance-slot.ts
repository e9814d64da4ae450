import { mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

/** More collectors of one group than this on one host would be a mistake, not a deployment. */
const MAX_SLOTS = 256;

export interface InstanceSlot {
  /** `<host>-<slot>`: the lowest slot no running process of this group holds on this host. */
  instanceId: string;
  release(): void;
}

/**
 * Names this process among the collectors of one consumer group on one host, for its Kafka
 * transactional id. Two processes started with defaults get different names (the second would fence
 * the first otherwise), and a restarted process gets its old name back (so that it fences the open
 * transaction of the process it replaces instead of waiting for it to time out). A slot is held by
 * a file naming the holder's pid; a file whose process is gone is taken over.
 */
export function claimInstanceSlot(consumerGroup: string, directory = join(tmpdir(), 'vigil-instances')): InstanceSlot {
  const groupDirectory = join(directory, Buffer.from(consumerGroup).toString('hex'));
  mkdirSync(groupDirectory, { recursive: true });
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    const path = join(groupDirectory, `${slot}.pid`);
    if (tryCreate(path) || (holderIsGone(path) && removeStale(path) && tryCreate(path))) {
      return {
        instanceId: `${hostname()}-${slot}`,
        release: () => {
          if (readHolder(path) === process.pid) removeStale(path);
        },
      };
    }
  }
  throw new Error(`${MAX_SLOTS} processes of consumer group ${consumerGroup} already run on this host; set VIGIL_INSTANCE_ID`);
}

function tryCreate(path: string): boolean {
  let descriptor: number;
  try {
    descriptor = openSync(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(descriptor, String(process.pid));
  } finally {
    closeSync(descriptor);
  }
  return true;
}

function readHolder(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function holderIsGone(path: string): boolean {
  const pid = readHolder(path);
  // A file being written right now reads empty: treat it as held.
  if (pid === null) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function removeStale(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}
