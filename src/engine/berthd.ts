/**
 * Entry point of berthd, the Berth runtime service. The service itself is
 * tracked in issue #3; until it lands this entry point says so and exits.
 */
import { notYet } from '../common/errors';

const err = notYet('berthd (the Berth runtime service)', 3);
process.stderr.write(`berthd: ${err.message}\n`);
process.exitCode = 1;
