/**
 * Where the admin CLI finds the controller and its token:
 *   controller: --controller URL  >  XLSS_CONTROLLER  >  the context file
 *   token file: --token-file FILE >  XLSS_TOKEN_FILE  >  the context file
 * The context file is `$XLSS_CONTEXT`, else `~/.config/xlss/context.json`; `xlss lab up`
 * writes it. A URL may be `unix:/path.sock` (or the context may give `socketPath`): a
 * lab's controller runs inside the lab's network namespace and is reached through a
 * unix socket from the host.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { errorMessage, UsageError, ValidationError } from '../../common/errors.js';

export interface ControllerContext {
  /** http(s)://host:port of the controller; with socketPath, only used for the Host header. */
  controller: string;
  /** File holding the controller's bearer token. */
  tokenFile: string;
  /** Reach the controller through this unix socket instead of the URL's host. */
  socketPath?: string;
}

export interface ControllerTarget {
  baseUrl: string;
  socketPath: string | undefined;
  token: string;
  /** What the user would recognise, for error messages. */
  display: string;
}

const HTTP_URL = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?\/?$/;
const SOCKET_PATH = /^\/(?!.*\.\.)[A-Za-z0-9_./-]{1,200}$/;

export function contextFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.XLSS_CONTEXT || join(env.HOME || homedir(), '.config', 'xlss', 'context.json');
}

/** For `xlss lab up`: records how to reach its controller (mode 600; holds no secret itself). */
export function writeContextFile(context: ControllerContext, path = contextFilePath()): void {
  checkContext(context, path);
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic.sync(path, `${JSON.stringify(context, null, 2)}\n`, { mode: 0o600 });
}

function checkContext(value: unknown, path: string): ControllerContext {
  if (typeof value !== 'object' || value === null) throw new ValidationError(path, 'must hold a JSON object');
  const c = value as Record<string, unknown>;
  for (const key of Object.keys(c))
    if (!['controller', 'tokenFile', 'socketPath'].includes(key))
      throw new ValidationError(`${path}: ${key}`, 'unknown key (known: controller, tokenFile, socketPath)');
  if (typeof c.controller !== 'string' || !HTTP_URL.test(c.controller))
    throw new ValidationError(`${path}: controller`, 'must be an http(s)://host:port URL');
  if (typeof c.tokenFile !== 'string' || !SOCKET_PATH.test(c.tokenFile))
    throw new ValidationError(`${path}: tokenFile`, 'must be an absolute path');
  if (c.socketPath !== undefined && (typeof c.socketPath !== 'string' || !SOCKET_PATH.test(c.socketPath)))
    throw new ValidationError(`${path}: socketPath`, 'must be an absolute path');
  return c as unknown as ControllerContext;
}

function readContext(path: string): ControllerContext | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ValidationError(path, `cannot read the context file: ${errorMessage(err)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ValidationError(path, 'the context file is not JSON');
  }
  return checkContext(doc, path);
}

/** `http://h:p` or `unix:/path.sock`. */
function parseControllerUrl(
  value: string,
  field: string,
): { baseUrl: string; socketPath: string | undefined } {
  if (value.startsWith('unix:')) {
    const socketPath = value.slice('unix:'.length);
    if (!SOCKET_PATH.test(socketPath))
      throw new ValidationError(field, `"${value}" must be unix:/absolute/path.sock`);
    return { baseUrl: 'http://controller', socketPath };
  }
  if (!HTTP_URL.test(value))
    throw new ValidationError(field, `"${value}" must be http(s)://host:port or unix:/path.sock`);
  return { baseUrl: value, socketPath: undefined };
}

function readToken(path: string, field: string): string {
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ValidationError(field, `cannot read the token file ${path}: ${errorMessage(err)}`);
  }
  if (!token) throw new ValidationError(field, `the token file ${path} is empty`);
  return token;
}

export function resolveControllerTarget(
  flags: { controller?: string | undefined; tokenFile?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): ControllerTarget {
  const ctxPath = contextFilePath(env);
  const explicit = flags.controller
    ? { value: flags.controller, field: '--controller' }
    : env.XLSS_CONTROLLER
      ? { value: env.XLSS_CONTROLLER, field: 'XLSS_CONTROLLER' }
      : null;
  // The context's token belongs to the context's controller: never sent to another one.
  const ctx = explicit ? null : readContext(ctxPath);
  let where: { baseUrl: string; socketPath: string | undefined; display: string };
  if (explicit) where = { ...parseControllerUrl(explicit.value, explicit.field), display: explicit.value };
  else if (ctx)
    where = {
      baseUrl: ctx.controller,
      socketPath: ctx.socketPath,
      display: ctx.socketPath ? `${ctx.controller} (via ${ctx.socketPath})` : ctx.controller,
    };
  else
    throw new UsageError(
      'no controller configured: pass --controller URL (or unix:/path.sock), set XLSS_CONTROLLER, ' +
        `or run "xlss lab up", which writes the context file ${ctxPath} (XLSS_CONTEXT overrides its path)`,
    );
  const token = flags.tokenFile
    ? readToken(flags.tokenFile, '--token-file')
    : env.XLSS_TOKEN_FILE
      ? readToken(env.XLSS_TOKEN_FILE, 'XLSS_TOKEN_FILE')
      : ctx
        ? readToken(ctx.tokenFile, `${ctxPath}: tokenFile`)
        : (() => {
            throw new UsageError(
              `no token for the controller at ${where.display}: pass --token-file FILE or set XLSS_TOKEN_FILE`,
            );
          })();
  return { ...where, token };
}
