/**
 * What a step writes into the image's history, known before it runs: its
 * created_by text (and, for COPY and ADD, a comment naming the content
 * read), the runtime config after it, and whether it adds a layer. The
 * executed step records exactly this; --cache-from matches images by it.
 */
import { createHash } from 'node:crypto';
import type { ImageRuntimeConfig } from '../../api/types/oci';
import { applyConfig, commandOf } from './config-steps';
import type { Instruction } from './dockerfile';
import type { Vars } from './shell-words';

export interface StepOutcome {
  readonly createdBy: string;
  readonly comment?: string;
  readonly config: ImageRuntimeConfig;
  /** Whether the step adds a layer: always, never, or 'either' (a COPY that changes nothing, WORKDIR of a directory that exists). */
  readonly layer: boolean | 'either';
}

export interface OutcomeContext {
  readonly vars: Vars;
  readonly escape: string;
  readonly cmdSet: boolean;
  /** Build args in scope ("K=V"). */
  readonly env: readonly string[];
}

/** RUN's created_by: the build args it saw (as Docker writes them), then the command. */
export function runCreatedBy(ins: Instruction, argv: readonly string[], env: readonly string[]): string {
  return `${env.length ? `|${env.length} ${env.join(' ')} ` : ''}${ins.json ? `RUN ${JSON.stringify(ins.json)}` : argv.join(' ')}`;
}

export const copyCreatedBy = (ins: Instruction): string => `/bin/sh -c #(nop) ${ins.text}`;

/** COPY and ADD name the digest of what they read in a history comment (the text alone does not tell contents apart). */
export const contentComment = (content: string): string => `berth.content=sha256:${createHash('sha256').update(content).digest('hex')}`;

export const workdirCreatedBy = (dir: string, layer: boolean): string => (layer ? `WORKDIR ${dir}` : `/bin/sh -c #(nop) WORKDIR ${dir}`);

export const configCreatedBy = (ins: Instruction): string => `/bin/sh -c #(nop)  ${ins.text}`;

/** The outcomes the step may have (one, or two for WORKDIR); none for a step --cache-from cannot stand in for. */
export function stepOutcomes(ins: Instruction, config: ImageRuntimeConfig, ctx: OutcomeContext, content?: string): StepOutcome[] {
  switch (ins.keyword) {
    case 'RUN':
      return [{ createdBy: runCreatedBy(ins, commandOf(ins, config), ctx.env), config, layer: true }];
    case 'COPY':
    case 'ADD':
      return content === undefined ? [] : [{ createdBy: copyCreatedBy(ins), comment: contentComment(content), config, layer: 'either' }];
    case 'WORKDIR': {
      const next = applyConfig(ins, config, ctx);
      const dir = next.WorkingDir ?? '/';
      return [
        { createdBy: workdirCreatedBy(dir, true), config: next, layer: true },
        { createdBy: workdirCreatedBy(dir, false), config: next, layer: false },
      ];
    }
    case 'MAINTAINER':
    case 'ARG':
      return [];
    default:
      return [{ createdBy: configCreatedBy(ins), config: applyConfig(ins, config, ctx), layer: false }];
  }
}
