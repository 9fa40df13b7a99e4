/**
 * Loads a Lambda function's CommonJS code, unmodified, into one emulated
 * execution environment, as the Lambda Node.js runtime would: its own module
 * cache, and its own `process.env`, `console` and clock.
 *
 * The code is compiled in the host's main realm, like Node's own loader does,
 * so that Node's errors (ECONNREFUSED, ...) pass the AWS SDK's
 * `instanceof Error` checks even when the harness runs under jest, whose test
 * code lives in another realm. Built-in modules, timers and the network are
 * the host's.
 */
import * as fs from 'fs';
import { createRequire, isBuiltin } from 'module';
import * as path from 'path';
import * as vm from 'vm';

/** What one execution environment sees differently from the host process. */
export interface SandboxGlobals {
  readonly process: NodeJS.Process;
  readonly console: Console;
  readonly Date: DateConstructor;
  readonly setTimeout: typeof setTimeout;
  readonly clearTimeout: typeof clearTimeout;
  readonly AbortSignal: typeof AbortSignal;
  readonly performance: typeof performance;
}

/** The parameters of the CommonJS wrapper, plus the globals an environment owns. */
const PARAMETERS = ['exports', 'require', 'module', '__filename', '__dirname', 'process', 'console', 'Date', 'setTimeout', 'clearTimeout', 'AbortSignal', 'performance'];

interface LoadedModule {
  exports: unknown;
}

/** The host's real `process`, even under jest (whose `process` is a copy). */
export const hostProcess = vm.runInThisContext('process') as NodeJS.Process;

/**
 * A `process` for one environment: the host's, with its own environment
 * variables, and its own `emitWarning` (in Lambda, a function's warnings go to
 * its own log).
 */
export function sandboxProcess(env: Record<string, string>, warn: (text: string) => void): NodeJS.Process {
  const emitWarning = (warning: string | Error, type?: string | { type?: string }) => {
    const name = warning instanceof Error ? warning.name : (typeof type === 'string' ? type : type?.type) ?? 'Warning';
    warn(`${name}: ${warning instanceof Error ? warning.message : warning}`);
  };
  return Object.create(hostProcess, {
    env: { value: { ...env }, enumerable: true, writable: true },
    emitWarning: { value: emitWarning, enumerable: false, writable: true },
  }) as NodeJS.Process;
}

export class ModuleLoader {
  private readonly cache = new Map<string, LoadedModule>();

  /**
   * @param globals what the loaded code sees as `process`, `console` and `Date`
   */
  constructor(private readonly globals: SandboxGlobals) {}

  /** Loads a file (once per environment) and returns its exports. */
  load(filename: string): unknown {
    const resolved = path.resolve(filename);
    const cached = this.cache.get(resolved);
    if (cached) {
      return cached.exports;
    }
    const module: LoadedModule = { exports: {} };
    this.cache.set(resolved, module);
    const source = fs.readFileSync(resolved, 'utf8');
    if (resolved.endsWith('.json')) {
      module.exports = JSON.parse(source);
      return module.exports;
    }
    const wrapper = compile(source, resolved);
    const { process, console, Date, setTimeout, clearTimeout, AbortSignal, performance } = this.globals;
    wrapper.call(module.exports, module.exports, this.requireFrom(resolved), module, resolved, path.dirname(resolved),
      process, console, Date, setTimeout, clearTimeout, AbortSignal, performance);
    return module.exports;
  }

  private requireFrom(filename: string): NodeJS.Require {
    const hostRequire = createRequire(filename);
    const require = (id: string): unknown => {
      if (id === 'process' || id === 'node:process') {
        return this.globals.process;
      }
      if (isBuiltin(id)) {
        return hostRequire(id);
      }
      if (id.startsWith('./') || id.startsWith('../') || path.isAbsolute(id)) {
        return this.load(resolveFile(path.resolve(path.dirname(filename), id), id, filename));
      }
      // Only the function's own files are there: the code bundles what it uses (the runtime's preinstalled SDK is not emulated).
      throw Object.assign(new Error(`Cannot find module '${id}' from '${filename}'`), { code: 'MODULE_NOT_FOUND' });
    };
    return Object.assign(require, {
      resolve: (id: string) => isBuiltin(id) ? id : resolveFile(path.resolve(path.dirname(filename), id), id, filename),
      cache: {},
      main: undefined,
      extensions: {},
    }) as unknown as NodeJS.Require;
  }
}

type Wrapper = (this: unknown, ...args: unknown[]) => void;

/** Compiled files by path, with the source they were compiled from: compiling is most of a cold start's cost. */
const compiled = new Map<string, { readonly source: string; readonly wrapper: Wrapper }>();

function compile(source: string, filename: string): Wrapper {
  const cached = compiled.get(filename);
  if (cached?.source === source) {
    return cached.wrapper;
  }
  quietDynamicImportWarning();
  const wrapper = vm.compileFunction(source, PARAMETERS, {
    filename,
    // The AWS SDK loads node:http with import(); resolve it as Node's own loader would.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  }) as Wrapper;
  compiled.set(filename, { source, wrapper });
  return wrapper;
}

let warned = false;

/**
 * Node flags main-context dynamic import() as experimental and warns once per
 * process, synchronously, at the first import() call: make that first call
 * here, with that one warning muted, so that it never shows in test or demo output.
 */
function quietDynamicImportWarning(): void {
  if (warned) {
    return;
  }
  warned = true;
  const emitWarning = hostProcess.emitWarning;
  hostProcess.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (!String(warning).includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) {
      (emitWarning as (...args: unknown[]) => void).call(hostProcess, warning, ...rest);
    }
  }) as typeof emitWarning;
  try {
    const probe = vm.compileFunction('return import("node:path")', [], {
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    }) as () => Promise<unknown>;
    probe().catch(() => undefined);
  } finally {
    hostProcess.emitWarning = emitWarning;
  }
}

function resolveFile(base: string, id: string, from: string): string {
  for (const candidate of [base, `${base}.js`, `${base}.json`, path.join(base, 'index.js')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
      return candidate;
    }
  }
  throw Object.assign(new Error(`Cannot find module '${id}' from '${from}'`), { code: 'MODULE_NOT_FOUND' });
}
