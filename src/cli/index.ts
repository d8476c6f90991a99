/** The `wharf` command line: serve, config check/print, gc, --version. */
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load.js';
import { VERSION } from '../version.js';
import { registerConfigCommands } from './config-command.js';
import { serve } from './serve.js';
import { registerGcCommand } from './gc-command.js';
import { registerHtpasswdCommand } from './htpasswd-command.js';

export function buildProgram(): Command {
  const program = new Command('wharf')
    .description('A container registry: OCI Distribution v1.1 and the Docker Registry HTTP API v2')
    .version(VERSION, '-v, --version');

  program
    .command('serve')
    .description('serve the registry; without a file, the embedded default (./data, port 5000)')
    .argument('[config]', "a distribution-style config.yml")
    .action(async (file: string | undefined) => {
      try {
        await serve(await loadConfig(file === undefined ? {} : { file }));
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`${err.message}\n`);
          process.exit(1);
        }
        throw err;
      }
    });

  registerConfigCommands(program);
  registerGcCommand(program);
  registerHtpasswdCommand(program);
  return program;
}

/** Runs the CLI; resolves with an exit code for commands that finish, undefined for `serve`. */
export async function runCli(argv: readonly string[]): Promise<number | undefined> {
  const program = buildProgram();
  await program.parseAsync([...argv]);
  return undefined;
}
