/**
 * Entry point of the in-container agent. The agent (SSH over stdio and
 * WebSocket) is tracked in issue #7; until it lands this entry point says so.
 */
import { notYet } from '../../src/common/errors';

const err = notYet('the in-container agent', 7);
process.stderr.write(`berth-agent: ${err.message}\n`);
process.exitCode = 1;
