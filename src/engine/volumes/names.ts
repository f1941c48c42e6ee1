/** Volume names: Docker's rule for the local driver, and anonymous names. */
import { randomBytes } from 'node:crypto';
import { BerthError } from '../../common/errors';

const VALID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Throws invalid_argument (with Docker's wording) unless `name` is a valid local volume name. */
export function validateVolumeName(name: string): string {
  if (!VALID.test(name)) {
    throw new BerthError(
      'invalid_argument',
      `"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
  return name;
}

/** A fresh anonymous volume name: 64 hex characters, like Docker's. */
export function anonymousVolumeName(): string {
  return randomBytes(32).toString('hex');
}
