/**
 * `hostRequirements`: checked against this host before a container is made.
 * As in the Dev Containers tools, a shortfall is a warning, not an error
 * (the container may still be useful); a required GPU that is absent too.
 */
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import { existsSync } from 'node:fs';
import type { HostRequirements } from '../config/types';

export interface HostFacts {
  readonly cpus: number;
  readonly memory: number;
  /** Free bytes where the engine keeps its data (or the workspace). */
  readonly storage: number;
  readonly gpu: boolean;
}

export async function hostFacts(storagePath: string): Promise<HostFacts> {
  const fs = await statfs(storagePath).catch(() => undefined);
  return {
    cpus: os.availableParallelism(),
    memory: os.totalmem(),
    storage: fs ? fs.bavail * fs.bsize : Number.POSITIVE_INFINITY,
    gpu: existsSync('/dev/nvidia0') || existsSync('/dev/dri/renderD128'),
  };
}

const gib = (n: number): string => `${(n / 2 ** 30).toFixed(1)} GiB`;

/** The unmet requirements, as sentences (empty when the host is enough). */
export function unmetRequirements(req: HostRequirements | undefined, facts: HostFacts): string[] {
  if (!req) return [];
  const out: string[] = [];
  const memory = Number(req.memory ?? 0);
  const storage = Number(req.storage ?? 0);
  if (req.cpus && facts.cpus < req.cpus) out.push(`${req.cpus} CPUs are required, this host has ${facts.cpus}`);
  if (memory && facts.memory < memory) out.push(`${gib(memory)} of memory is required, this host has ${gib(facts.memory)}`);
  if (storage && facts.storage < storage) out.push(`${gib(storage)} of free storage is required, ${gib(facts.storage)} is free`);
  if (req.gpu && req.gpu !== 'optional' && !facts.gpu) out.push('a GPU is required, none was found on this host');
  return out;
}
