import { z } from 'zod/v4';
import { ADMIN_PASSWORD_RULE, JWT_SECRET_RULE, looksLikePlaceholder, weakSecretReason } from './auth/secret-strength.js';
import { trustedProxies } from './http/trusted-proxies.js';

export const roles = ['write-api', 'read-api', 'forwarder', 'projector', 'notifier', 'mailer'] as const;
export type ProcessRole = (typeof roles)[number];

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);
const optionalText = z.preprocess(emptyAsUndefined, z.string().optional());

/**
 * What is wrong with a KurrentDB connection string, or null: `esdb://`, `kurrentdb://` or
 * `kdb://` (each also `+discover`), one or more host:port, then optional query settings.
 */
export function kurrentDbUrlProblem(url: string): string | null {
  const match = /^(esdb|kurrentdb|kdb)(\+discover)?:\/\/(?:[^@/?#\s]+@)?([^/?#\s]+)\/?(\?[^#\s]*)?$/.exec(url);
  if (!match) return 'is not a KurrentDB connection string (such as kurrentdb://127.0.0.1:2113?tls=false)';
  const hosts = match[3]!.split(',');
  if (hosts.some((host) => !/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i.test(host))) return `names a host that is not host:port (${match[3]})`;
  return null;
}

/** Every setting of docs and design.md, parsed once at start; a wrong value stops the process with its name. */
export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    HOST: z.string().default('127.0.0.1'),
    DATA_DIR: z.string().default('./data'),
    DATABASE_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^postgres(ql)?$/ }).optional()),
    EVENT_STORE: z.enum(['postgres', 'eventstoredb']).default('postgres'),
    EVENTSTOREDB_URL: optionalText,
    REDIS_URL: optionalText,
    KAFKA_BROKERS: optionalText,
    SMTP_URL: optionalText,
    MAIL_FROM: z.string().default('Stockroom <stockroom@localhost>'),
    /** The address clients use: links in emails start with it. Defaults to http://HOST:PORT. */
    PUBLIC_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
    /** Crossings into low stock of one store within this many seconds go out as one email; 0 sends each at once. */
    LOW_STOCK_DIGEST_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
    JWT_SECRET: optionalText,
    TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(8 * 3600),
    ADMIN_USERNAME: z.string().min(3).default('admin'),
    ADMIN_PASSWORD: optionalText,
    ROLES: z
      .string()
      .default(roles.join(','))
      .transform((text) => text.split(',').map((role) => role.trim()).filter(Boolean))
      .pipe(z.array(z.enum(roles)).min(1)),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Login attempts per minute for one username from one address. */
    LOGIN_RATE_LIMIT: z.coerce.number().int().positive().default(10),
    /** Proxies (addresses, CIDR ranges) whose X-Forwarded-For names the client; none by default. */
    TRUST_PROXY: trustedProxies,
  })
  .superRefine((config, context) => {
    if (config.NODE_ENV === 'production') {
      // Secrets in production: no placeholder, nothing guessable (src/shared/auth/secret-strength.ts).
      const secret = config.JWT_SECRET;
      const secretProblem = secret === undefined ? 'must be set' : weakSecretReason(secret, JWT_SECRET_RULE);
      if (secretProblem) {
        context.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: `${secretProblem} (production needs a random value of at least 32 characters, e.g. openssl rand -base64 48)` });
      }
      const adminProblem = config.ADMIN_PASSWORD === undefined ? null : weakSecretReason(config.ADMIN_PASSWORD, ADMIN_PASSWORD_RULE);
      if (adminProblem) context.addIssue({ code: 'custom', path: ['ADMIN_PASSWORD'], message: `${adminProblem} (in production)` });
      const databasePassword = config.DATABASE_URL === undefined ? '' : new URL(config.DATABASE_URL).password.replace(/%[0-9a-f]{2}/gi, '');
      if (databasePassword !== '' && looksLikePlaceholder(databasePassword)) {
        context.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'its password looks like a placeholder or an example value (in production)' });
      }
    }
    if (config.EVENT_STORE === 'eventstoredb') {
      // KurrentDB (EventStoreDB) holds the events; read models stay in PostgreSQL.
      const problem = config.EVENTSTOREDB_URL === undefined ? 'must be set when EVENT_STORE=eventstoredb' : kurrentDbUrlProblem(config.EVENTSTOREDB_URL);
      if (problem) context.addIssue({ code: 'custom', path: ['EVENTSTOREDB_URL'], message: problem });
    } else if (config.EVENTSTOREDB_URL !== undefined) {
      // Never silently ignored: a URL of an event store this process does not use is a mistake.
      context.addIssue({ code: 'custom', path: ['EVENTSTOREDB_URL'], message: 'is set but EVENT_STORE is postgres: set EVENT_STORE=eventstoredb to use it, or unset it' });
    }
    if (config.ROLES.includes('notifier') && !config.ROLES.includes('read-api')) {
      // The notifier feeds the websockets of its own process; alone it would serve no one.
      context.addIssue({ code: 'custom', path: ['ROLES'], message: 'notifier serves the websockets of the read API in the same process: run it with read-api' });
    }
    if (config.ADMIN_PASSWORD !== undefined && config.ADMIN_PASSWORD.length < 8) {
      context.addIssue({ code: 'custom', path: ['ADMIN_PASSWORD'], message: 'must have at least 8 characters' });
    }
  });

export type Config = z.infer<typeof configSchema>;

/** Where links in emails point: PUBLIC_URL, or this server's own address. */
export const publicUrl = (config: Config): string =>
  (config.PUBLIC_URL ?? `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${config.PORT}`).replace(/\/+$/, '');

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid settings:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'settings'}: ${issue.message}`));
  }
  return parsed.data;
}
