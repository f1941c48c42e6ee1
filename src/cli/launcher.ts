/**
 * The `berth` executable: loads the CLI bundle (berth-cli.js beside it)
 * with V8's code cache, so that a command does not compile the bundle again
 * on every run. The cache lives in the user's own cache folder (mode 0700),
 * keyed by node's version and the bundle file's identity; V8 checks it
 * again and a rejected or missing cache is written anew after the command.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

function cacheFile(bundle: string): string | undefined {
  try {
    const home = process.env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
    const st = statSync(bundle);
    return path.join(home, 'berth', `cli-${process.version}-${process.arch}-${st.ino}-${st.size}-${Math.trunc(st.mtimeMs)}.v8`);
  } catch {
    return undefined;
  }
}

function readCache(file: string | undefined): Buffer | undefined {
  if (!file) return undefined;
  try {
    const st = statSync(path.dirname(file));
    // Only a folder of our own that no one else may write.
    if (st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) return undefined;
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

function writeCache(file: string, data: Buffer): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // A cache we cannot write only costs time.
  }
}

const bundle = path.join(__dirname, 'berth-cli.js');
const file = cacheFile(bundle);
const cachedData = readCache(file);
const script = new vm.Script(Module.wrap(readFileSync(bundle, 'utf8')), { filename: bundle, ...(cachedData ? { cachedData } : {}) });
if (file && (!cachedData || script.cachedDataRejected === true)) {
  // After the command, so that the functions it compiled are in the cache too.
  process.once('exit', () => writeCache(file, script.createCachedData()));
}
const mod = new Module(bundle, module);
mod.filename = bundle;
mod.paths = module.paths;
const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
run.call(mod.exports, mod.exports, createRequire(bundle), mod, bundle, __dirname);
