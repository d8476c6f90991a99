/**
 * `wharf config check FILE` and `wharf config print [FILE]`.
 *
 * check: loads FILE with the `REGISTRY_*` environment applied, exactly as `serve` would; prints
 * "FILE: ok" and any warnings (exit 0), or every problem (exit 1).
 * print: the effective configuration (defaults and environment applied) as YAML that Wharf and
 * distribution read back, secrets redacted; without FILE, the embedded default.
 */
import type { Command } from 'commander';
import { ConfigError, EMBEDDED_SOURCE, configToYaml, loadConfig } from '../config/load.js';

export interface ConfigCommandIO {
  /** Environment for `REGISTRY_*` overrides. */
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export interface ConfigCommandOptions {
  /** false: ignore `REGISTRY_*` variables (commander's `--no-env`). */
  readonly env?: boolean;
}

const processIO = (): ConfigCommandIO => ({
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});

function failure(err: unknown, io: ConfigCommandIO): number {
  if (err instanceof ConfigError) {
    io.stderr(`${err.message}\n`);
    return 1;
  }
  throw err;
}

/** `config check FILE`: returns the exit code. */
export async function runConfigCheck(file: string, io: ConfigCommandIO, options: ConfigCommandOptions = {}): Promise<number> {
  try {
    const loaded = await loadConfig({ file, env: options.env === false ? {} : io.env });
    io.stdout(`${file}: ok\n`);
    for (const warning of loaded.warnings) io.stdout(`${file}: warning: ${warning}\n`);
    return 0;
  } catch (err) {
    return failure(err, io);
  }
}

/** `config print [FILE]`: returns the exit code. */
export async function runConfigPrint(file: string | undefined, io: ConfigCommandIO, options: ConfigCommandOptions = {}): Promise<number> {
  try {
    const env = options.env === false ? {} : io.env;
    const loaded = await loadConfig(file === undefined ? { env, defaults: 'embedded' } : { file, env });
    for (const warning of loaded.warnings) io.stderr(`${loaded.source}: warning: ${warning}\n`);
    const origin = loaded.source === EMBEDDED_SOURCE ? 'the embedded default' : loaded.source;
    const envNote = options.env === false ? '' : ' with REGISTRY_* environment overrides';
    io.stdout(`# Effective Wharf configuration: ${origin}${envNote}, defaults filled in, secrets redacted.\n`);
    io.stdout(configToYaml(loaded.config));
    return 0;
  } catch (err) {
    return failure(err, io);
  }
}

/**
 * Adds the `config` command group to `program`. `io` replaces the process's environment and
 * output streams (tests); exit codes are set on `process.exitCode`.
 */
export function registerConfigCommands(program: Command, io?: Partial<ConfigCommandIO>): void {
  const resolved = (): ConfigCommandIO => ({ ...processIO(), ...io });
  const config = program.command('config').description('check or print the registry configuration (distribution config.yml)');

  config
    .command('check')
    .description('validate a configuration file with the REGISTRY_* environment applied; exit 1 listing every problem')
    .argument('<file>', 'configuration file (YAML)')
    .option('--no-env', 'ignore REGISTRY_* environment variables')
    .action(async (file: string, options: ConfigCommandOptions) => {
      const code = await runConfigCheck(file, resolved(), options);
      if (code !== 0) process.exitCode = code;
    });

  config
    .command('print')
    .description('print the effective configuration as YAML (defaults and environment applied, secrets redacted); without FILE, the embedded default')
    .argument('[file]', 'configuration file (YAML)')
    .option('--no-env', 'ignore REGISTRY_* environment variables')
    .action(async (file: string | undefined, options: ConfigCommandOptions) => {
      const code = await runConfigPrint(file, resolved(), options);
      if (code !== 0) process.exitCode = code;
    });
}
