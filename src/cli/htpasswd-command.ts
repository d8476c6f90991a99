/**
 * `wharf htpasswd add USER -f FILE`: writes (or replaces) USER's bcrypt entry in an htpasswd file,
 * the way `htpasswd -B` does. The password comes from standard input (first line) when it is not a
 * terminal, otherwise from a prompt that does not echo. The running registry picks the change up.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { htpasswdLine } from '../auth/htpasswd.js';

async function readStdinLine(): Promise<string> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  return '';
}

async function prompt(question: string): Promise<string> {
  process.stderr.write(question);
  const stdin = process.stdin;
  stdin.setRawMode?.(true);
  let answer = '';
  try {
    for await (const chunk of stdin) {
      for (const ch of (chunk as Buffer).toString('utf8')) {
        if (ch === '\r' || ch === '\n') return answer;
        if (ch === '\u0003') throw new Error('interrupted');
        if (ch === '\u007f') answer = answer.slice(0, -1);
        else answer += ch;
      }
    }
    return answer;
  } finally {
    stdin.setRawMode?.(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) return readStdinLine();
  const first = await prompt('Password: ');
  const again = await prompt('Again: ');
  if (first !== again) throw new Error('the passwords differ');
  return first;
}

/** The file's text with `line` replacing USER's entry, or added at the end. */
export function withEntry(text: string, user: string, line: string): string {
  const lines = text.split('\n').filter((l, i, all) => !(i === all.length - 1 && l === ''));
  const at = lines.findIndex((l) => l.startsWith(`${user}:`));
  if (at >= 0) lines[at] = line;
  else lines.push(line);
  return `${lines.join('\n')}\n`;
}

export function registerHtpasswdCommand(program: Command): void {
  const htpasswd = program.command('htpasswd').description('manage an htpasswd file (auth.htpasswd, tokenservice.htpasswd)');
  htpasswd
    .command('add')
    .description("add USER, or change USER's password (read from standard input, or prompted for)")
    .argument('<user>', 'the user name')
    .requiredOption('-f, --file <path>', 'the htpasswd file (created when missing)')
    .option('--cost <n>', 'bcrypt cost', '10')
    .action(async (user: string, opts: { file: string; cost: string }) => {
      const cost = Number(opts.cost);
      if (!Number.isInteger(cost) || cost < 4 || cost > 31) throw new Error('--cost must be an integer from 4 to 31');
      const password = await readPassword();
      if (password === '') throw new Error('the password must not be empty');
      const line = await htpasswdLine(user, password, cost);
      let text = '';
      try {
        text = await readFile(opts.file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      // Replace atomically, so the registry never reads a half-written file.
      const tmp = `${opts.file}.${process.pid}.tmp`;
      await writeFile(tmp, withEntry(text, user, line), { mode: 0o600 });
      await rename(tmp, opts.file);
      process.stderr.write(`${user} written to ${opts.file}\n`);
    });
}
