/**
 * connect and disconnect: a container joins or leaves a network (at once
 * when running), under its lock; the peers' /etc/hosts follow.
 */
import type { ContainerRecord } from '../../api/types/containers';
import { BerthError } from '../../common/errors';
import type { ManagerContext } from './context';

function networking(ctx: ManagerContext): NonNullable<ManagerContext['options']['network']> {
  if (!ctx.options.network) throw new BerthError('failed_precondition', 'this engine has no networking');
  return ctx.options.network;
}

export async function connectLocked(ctx: ManagerContext, record: ContainerRecord, network: string, options: { aliases?: readonly string[]; signal?: AbortSignal } = {}): Promise<void> {
  const updated = await networking(ctx).connect(record, network, options);
  await ctx.store.save({ ...(ctx.store.get(record.id) ?? record), network: updated });
  await networking(ctx).changed();
}

export async function disconnectLocked(ctx: ManagerContext, record: ContainerRecord, network: string): Promise<void> {
  const updated = await networking(ctx).disconnect(record, network);
  await ctx.store.save({ ...(ctx.store.get(record.id) ?? record), network: updated });
  await networking(ctx).changed();
}
