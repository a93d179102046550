import { existsSync, readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/errors.ts';
import type { GlobalOptions } from './context.ts';
import type { PreviewOptions } from './preview.ts';

// Each command loads its modules when it runs: `crier --help` loads commander and nothing else
// (not even the config reader, zod, yaml or pg of ./context.ts), `crier check` not BullMQ or MJML.
const context = () => import('./context.ts');
const check = async (...a: Parameters<typeof import('./check.ts').check>) => (await import('./check.ts')).check(...a);
const demo = async (...a: Parameters<typeof import('./demo.ts').demo>) => (await import('./demo.ts')).demo(...a);
const gallery = async (...a: Parameters<typeof import('./gallery.ts').gallery>) => (await import('./gallery.ts')).gallery(...a);
const preview = async (...a: Parameters<typeof import('./preview.ts').preview>) => (await import('./preview.ts')).preview(...a);
const run = async (...a: Parameters<typeof import('./run.ts').run>) => (await import('./run.ts')).run(...a);
const start = async (...a: Parameters<typeof import('./start.ts').start>) => (await import('./start.ts')).start(...a);
const inbound = async (...a: Parameters<typeof import('./inbound.ts').inbound>) => (await import('./inbound.ts')).inbound(...a);
const calls = async (...a: Parameters<typeof import('./calls.ts').calls>) => (await import('./calls.ts')).calls(...a);
const review = async (...a: Parameters<typeof import('./review.ts').review>) => (await import('./review.ts')).review(...a);
const retry = async (...a: Parameters<typeof import('./retry.ts').retry>) => (await import('./retry.ts')).retry(...a);
const resume = async (...a: Parameters<typeof import('./retry.ts').resume>) => (await import('./retry.ts')).resume(...a);
const suppressions = async (...a: Parameters<typeof import('./suppressions.ts').suppressions>) => (await import('./suppressions.ts')).suppressions(...a);
const removeSuppression = async (...a: Parameters<typeof import('./suppressions.ts').removeSuppression>) => (await import('./suppressions.ts')).removeSuppression(...a);
const status = async (...a: Parameters<typeof import('./status.ts').status>) => (await import('./status.ts')).status(...a);
const schema = async (...a: Parameters<typeof import('./schema.ts').schema>) => (await import('./schema.ts')).schema(...a);
const doctor = async (...a: Parameters<typeof import('./doctor.ts').doctor>) => (await import('./doctor.ts')).doctor(...a);
const hashPassword = async (...a: Parameters<typeof import('./password.ts').hashPasswordCommand>) => (await import('./password.ts')).hashPasswordCommand(...a);

/** The package's version, from the package.json above this module (src/cli/, or dist/src/cli/ in the build). */
function version(): string {
  for (let dir = new URL('./', import.meta.url); ; ) {
    const file = new URL('package.json', dir);
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    const up = new URL('../', dir);
    if (up.href === dir.href) return 'unknown';
    dir = up;
  }
}

/** Runs the `crier` command line; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  let json = false;
  const program = new Command('crier')
    .description('Scheduled notifications for citizen-participation platforms: the right people hear about the platform on the right cadence.')
    .version(version(), '-V, --version')
    .showHelpAfterError()
    .enablePositionalOptions()
    .exitOverride();
  const withGlobal = (cmd: Command) =>
    cmd
      .option('-c, --config <file>', 'config file (default $CRIER_CONFIG, else config/crier.yaml)')
      .option('--configs <dir>', 'many tenants: a folder with defaults.yaml and one <tenant>.yaml each (default $CRIER_CONFIGS)')
      .option('--tenant <id>', 'the tenant this command is about, in a deployment of many')
      .option('--json', 'machine-readable output');
  const action =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A) => {
      const opts = args.find((a) => a && typeof a === 'object' && !Array.isArray(a) && !(a instanceof Command)) as GlobalOptions | undefined;
      json = Boolean(opts?.json);
      code = await fn(...args);
    };

  withGlobal(program.command('check').description("validate the config and list each schedule's next occurrences"))
    .option('--from <iso>', 'list occurrences strictly after this instant (default now)')
    .option('--count <n>', 'occurrences per schedule', '5')
    .action(action(check));
  withGlobal(program.command('preview [schedule]').description('render an occurrence with live platform data into files; sends nothing'))
    .option('--all', 'every schedule in every language, with an index.html gallery (subject, recipients, size, spam score)')
    .option('--at <iso>', 'the occurrence (default: the next one); without an offset, in the schedule’s time zone')
    .option('--variant <name>', 'which send of the occurrence, where a job kind plans several (e.g. invitation, agenda)')
    .option('--out <dir>', 'folder for the .html, .txt and .eml files', 'preview')
    .action(
      action(async (schedule: string | undefined, opts: PreviewOptions & { all?: boolean }) => {
        if (opts.all) return gallery(opts);
        if (!schedule) throw new (await context()).CommandError('name a schedule to preview, or pass --all for every schedule', 2);
        return preview(schedule, opts);
      }),
    );
  withGlobal(program.command('run <schedule>').description('make an occurrence due now, through the same ledger and queue as the schedule'))
    .option('--at <iso>', 'the occurrence (default: the next one); without an offset, in the schedule’s time zone')
    .option('--variant <name>', 'which send of the occurrence, where a job kind plans several (e.g. invitation, agenda)')
    .option('--wait', 'work the run to the end in this process and report its deliveries')
    .option('--timeout <seconds>', 'how long --wait waits at most', '300')
    .option('--force', 'send it even though its review holds it (a held send, or one whose review would)')
    .action(action(run));
  withGlobal(program.command('retry <run>').description("send a run's failed deliveries again (not to suppressed addresses)"))
    .option('--unknown', 'instead: the deliveries handed to the SMTP server without an answer')
    .action(action(retry));
  withGlobal(program.command('resume <run>').description('continue a run that paused itself because too many sends failed permanently (mail.pauseAt)')).action(action(resume));
  // Positional: `suppressions remove X --config F` gives --config to `remove`, not to the list.
  const suppressionsCmd = withGlobal(program.command('suppressions').description('addresses Crier does not write to: unsubscribed, hard bounces, bounce reports'))
    .enablePositionalOptions()
    .action(action(suppressions));
  withGlobal(suppressionsCmd.command('remove <address>').description('let Crier write to an address again (lifts all its suppressions)')).action(action(removeSuppression));
  withGlobal(program.command('start').description('run the scheduler and worker until SIGTERM')).action(action(start));
  withGlobal(program.command('status').description('schedules, recent runs, deliveries by status and what needs attention'))
    .option('--limit <n>', 'recent runs to show', '20')
    .action(action(status));
  withGlobal(program.command('migrate').description("create or update Crier's ledger tables")).action(
    action(async (opts: GlobalOptions) => {
      const crier = await (await context()).openCrier(opts);
      try {
        const applied = await crier.ledger.migrate();
        if (opts.json) process.stdout.write(`${JSON.stringify({ schema: crier.config.crier.schema, applied })}\n`);
        else process.stdout.write(applied.length ? `applied ${applied.join(', ')} to schema ${crier.config.crier.schema}\n` : `schema ${crier.config.crier.schema} is up to date\n`);
        return 0;
      } finally {
        await crier.close();
      }
    }),
  );
  withGlobal(program.command('inbound [file]').description('read one raw e-mail (a reply, an auto-reply, a bounce) from FILE or standard input and process it')).action(action(inbound));
  withGlobal(program.command('calls [schedule]').description('a project-call round: who answered what, who did not, replies to check'))
    .option('--round <iso>', 'the call’s occurrence (default: the latest round)')
    .action(action(calls));
  withGlobal(program.command('review [schedule]').description('the current review of a reviewed schedule: who was asked, every reply, what applies')).action(action(review));
  withGlobal(program.command('doctor').description("checks of this deployment: the config, each service reached (the platform proved read-only), the SMTP login, DKIM and addresses, each schedule's summary timed and which index would help a slow one"))
    .option('--slow <ms>', 'a summary slower than this many milliseconds is reported, with the index that would help', '1000')
    .option('--connect-timeout <ms>', "how long the ledger's and the platform's Postgres may take to accept a connection", '10000')
    .action(action(doctor));
  program
    .command('schema')
    .description("the config's JSON Schema, for editors (VS Code's YAML extension): keys, job kinds and their options")
    .option('-o, --out <file>', 'write it into FILE (config/crier.schema.json is the shipped copy)')
    .option('--for <part>', 'which file it checks: whole (a config), defaults (defaults.yaml of a folder of many) or tenant (a tenant\'s own file there)', 'whole')
    .action(action(schema));
  program
    .command('hash-password')
    .description('a password hash for the dashboard (http.admin.users or usersFile); the password is asked for, or read from standard input')
    .option('--user <name>', 'print NAME:HASH, a line of http.admin.usersFile')
    .action(action(hashPassword));
  withGlobal(program.command('demo').description('create (or recreate) the demo tenant named by platform.tenant')).action(action(demo));

  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof ConfigError) return (await context()).reportConfigError(e, json);
    const err = e as Error & { code?: number };
    const { CommandError } = await context();
    const exit = e instanceof CommandError ? e.code : 1;
    if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: err.message })}\n`);
    else process.stderr.write(`crier: ${err.message}\n`);
    return exit;
  }
  return code;
}
