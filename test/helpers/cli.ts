import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/crier.js', import.meta.url));

/** Runs the real `crier` command in a child process, as a superadmin would. */
export function crier(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, cwd, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A command with `--json` on a config, which must succeed (exit 0): its printed JSON. */
export async function crierJson(configFile: string, args: string[]): Promise<any> {
  const res = await crier([...args, '--json', '--config', configFile]);
  expect(res.code, res.stderr + res.stdout).toBe(0);
  return JSON.parse(res.stdout);
}
